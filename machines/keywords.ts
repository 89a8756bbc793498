// A word is a run of letters and digits; a hyphen, dot, underscore or apostrophe between two of
// them keeps the word whole, so an order number "PED-1" or "1.5" never answers the menu keyword "1".
const wordPattern = /[\p{L}\p{N}]+(?:[-._'’][\p{L}\p{N}]+)*/gu;

/**
 * Lower-cases, strips accents and keeps only the words, one space apart, so that whole-word
 * matching becomes a plain substring check on space-padded strings.
 */
export function normalizeForMatch(text: string): string {
  const plain = text.toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '');
  return (plain.match(wordPattern) ?? []).map((word) => word.replace(/[._'’]/g, '-')).join(' ');
}

function containsPhrase(normalizedInput: string, normalizedKeyword: string): boolean {
  if (normalizedKeyword === '') return false;
  return ` ${normalizedInput} `.includes(` ${normalizedKeyword} `);
}

export function matchesKeyword(input: string, keyword: string): boolean {
  return containsPhrase(normalizeForMatch(input), normalizeForMatch(keyword));
}

export type KeywordMatch = { subflowId: number; keyword: string };

type KeywordSource = ReadonlyArray<{ id: number; triggerKeywords: readonly string[] }>;

/**
 * Pre-normalizes the keywords once; a compiled flow checks every input against all of them.
 * Longest normalized keyword wins; ties keep the earliest subflow (and keyword), hence the strict `>`.
 */
export function createKeywordMatcher(subflows: KeywordSource): (input: string) => KeywordMatch | null {
  const candidates = subflows.flatMap((subflow) =>
    subflow.triggerKeywords
      .map((keyword) => ({ subflowId: subflow.id, keyword, normalized: normalizeForMatch(keyword) }))
      .filter((candidate) => candidate.normalized !== ''),
  );
  return (input) => {
    const normalizedInput = normalizeForMatch(input);
    if (normalizedInput === '') return null;
    let best: KeywordMatch | null = null;
    let bestLength = 0;
    for (const { subflowId, keyword, normalized } of candidates) {
      if (normalized.length > bestLength && containsPhrase(normalizedInput, normalized)) {
        best = { subflowId, keyword };
        bestLength = normalized.length;
      }
    }
    return best;
  };
}

export function findBestKeywordMatch(input: string, subflows: KeywordSource): KeywordMatch | null {
  return createKeywordMatcher(subflows)(input);
}
