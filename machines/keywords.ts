/**
 * Lower-cases, strips accents and turns every run of non letters/digits into one space, so that
 * whole-word matching becomes a plain substring check on space-padded strings.
 */
export function normalizeForMatch(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function containsPhrase(normalizedInput: string, normalizedKeyword: string): boolean {
  if (normalizedKeyword === '') return false;
  return ` ${normalizedInput} `.includes(` ${normalizedKeyword} `);
}

export function matchesKeyword(input: string, keyword: string): boolean {
  return containsPhrase(normalizeForMatch(input), normalizeForMatch(keyword));
}

export type KeywordMatch = { subflowId: number; keyword: string };

/** Longest normalized keyword wins; ties keep the earliest subflow (and keyword), hence the strict `>`. */
export function findBestKeywordMatch(
  input: string,
  subflows: ReadonlyArray<{ id: number; triggerKeywords: readonly string[] }>,
): KeywordMatch | null {
  const normalizedInput = normalizeForMatch(input);
  if (normalizedInput === '') return null;
  let best: KeywordMatch | null = null;
  let bestLength = 0;
  for (const subflow of subflows) {
    for (const keyword of subflow.triggerKeywords) {
      const normalizedKeyword = normalizeForMatch(keyword);
      if (normalizedKeyword.length > bestLength && containsPhrase(normalizedInput, normalizedKeyword)) {
        best = { subflowId: subflow.id, keyword };
        bestLength = normalizedKeyword.length;
      }
    }
  }
  return best;
}
