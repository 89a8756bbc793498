import { expect } from 'chai';
import fc from 'fast-check';
import { findBestKeywordMatch, matchesKeyword, normalizeForMatch } from '../../machines/index.js';

describe('keywords', () => {
  describe('normalizeForMatch', () => {
    it('lower-cases, strips accents and collapses punctuation into single spaces', () => {
      expect(normalizeForMatch('  Orçamento, JÁ!! (1) ')).to.equal('orcamento ja 1');
    });
  });

  describe('matchesKeyword', () => {
    it('ignores case and accents', () => {
      expect(matchesKeyword('Quero um ORÇAMENTO', 'orcamento')).to.equal(true);
      expect(matchesKeyword('quero um orcamento', 'Orçamento')).to.equal(true);
    });

    it('matches whole words only', () => {
      expect(matchesKeyword('opção 1', '1')).to.equal(true);
      expect(matchesKeyword('10', '1')).to.equal(false);
      expect(matchesKeyword('assim', 'sim')).to.equal(false);
      expect(matchesKeyword('sim, por favor', 'sim')).to.equal(true);
    });

    it('treats punctuation as a word separator', () => {
      for (const input of ['1.', '1)', '(1)', '1,', '-1-']) expect(matchesKeyword(input, '1'), input).to.equal(true);
    });

    it('keeps words joined by a hyphen, dot or apostrophe whole', () => {
      for (const input of ['PED-1', 'pedido 1.5', 'v1_2', "1'"]) {
        expect(matchesKeyword(input, '1'), input).to.equal(input === "1'");
      }
      expect(matchesKeyword('meu pedido PED-1', 'ped-1')).to.equal(true);
      expect(matchesKeyword('e-mail', 'mail')).to.equal(false);
    });

    it('matches phrases only as contiguous whole words', () => {
      expect(matchesKeyword('quero orçamento agora', 'quero orcamento')).to.equal(true);
      expect(matchesKeyword('eu quero um orçamento', 'quero orcamento')).to.equal(false);
    });

    it('never matches a blank keyword', () => {
      expect(matchesKeyword('anything', '')).to.equal(false);
      expect(matchesKeyword('anything', ' !? ')).to.equal(false);
    });
  });

  describe('findBestKeywordMatch', () => {
    it('returns null without a match', () => {
      expect(findBestKeywordMatch('nada', [{ id: 1, triggerKeywords: ['menu'] }])).to.equal(null);
    });

    it('prefers the longest keyword', () => {
      const subflows = [
        { id: 1, triggerKeywords: ['orçamento'] },
        { id: 2, triggerKeywords: ['orçamento urgente'] },
      ];
      expect(findBestKeywordMatch('orcamento urgente por favor', subflows)).to.deep.equal({
        subflowId: 2,
        keyword: 'orçamento urgente',
      });
    });

    it('gives ties to the subflow that comes first', () => {
      const subflows = [
        { id: 5, triggerKeywords: ['ajuda'] },
        { id: 3, triggerKeywords: ['Ajudá'] },
      ];
      expect(findBestKeywordMatch('ajuda', subflows)?.subflowId).to.equal(5);
    });

    it('measures length after normalization and ignores blank keywords', () => {
      const subflows = [
        { id: 1, triggerKeywords: ['', '   ', 'oi!!!!!!'] },
        { id: 2, triggerKeywords: ['oi tudo'] },
      ];
      expect(findBestKeywordMatch('oi tudo bem', subflows)?.subflowId).to.equal(2);
    });
  });

  describe('properties', () => {
    const accents: Record<string, string[]> = {
      a: ['a', 'A', 'á', 'Á', 'à', 'â', 'ã', 'Ã'],
      e: ['e', 'E', 'é', 'É', 'ê'],
      i: ['i', 'I', 'í', 'Í'],
      o: ['o', 'O', 'ó', 'ô', 'õ', 'Õ'],
      u: ['u', 'U', 'ú', 'ü'],
      c: ['c', 'C', 'ç', 'Ç'],
    };
    // Keywords and filler text use disjoint alphabets, so any match can only come from the planted keyword.
    const keywordChars = 'abcdefghijklmnop01234'.split('');
    const fillerChars = 'qrstuvwxyz56789'.split('');
    const wordOf = (chars: string[]) =>
      fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 8 }).map((picked) => picked.join(''));
    const keyword = fc.array(wordOf(keywordChars), { minLength: 1, maxLength: 3 }).map((words) => words.join(' '));
    const filler = fc.array(wordOf(fillerChars), { maxLength: 5 }).map((words) => words.join(' '));
    const separator = fc.constantFrom(' ', ', ', '. ', '! ', ' (', ') ', '  ', ' - ', '\n', '? ');

    /** Random case and accents per character, keeping its normalized form. */
    const disguise = (value: string) =>
      fc.array(fc.nat(), { minLength: value.length, maxLength: value.length }).map((picks) =>
        value
          .split('')
          .map((char, index) => {
            const options = accents[char] ?? [char, char.toUpperCase()];
            return options[(picks[index] ?? 0) % options.length];
          })
          .join(''),
      );
    const disguised = (arbitrary: fc.Arbitrary<string>) =>
      arbitrary.chain((value) => fc.tuple(fc.constant(value), disguise(value)));

    it('a keyword embedded as whole words always matches, whatever the case and accents', () => {
      fc.assert(
        fc.property(disguised(keyword), filler, filler, separator, separator, ([kw, shown], before, after, sepA, sepB) =>
          matchesKeyword(before + sepA + shown + sepB + after, kw),
        ),
        { numRuns: 500 },
      );
    });

    it('a keyword glued to extra letters never matches', () => {
      fc.assert(
        fc.property(keyword, wordOf([...keywordChars, ...fillerChars]), fc.boolean(), filler, filler, (kw, extra, atStart, before, after) => {
          const glued = atStart ? extra + kw : kw + extra;
          return !matchesKeyword(`${before} ${glued} ${after}`, kw);
        }),
        { numRuns: 500 },
      );
    });

    it('matching is invariant under case and accent changes of input and keyword', () => {
      const sentence = fc
        .array(fc.constantFrom(...keywordChars, ...fillerChars, ' ', ' ', '.', ','), { maxLength: 30 })
        .map((chars) => chars.join(''));
      fc.assert(
        fc.property(disguised(sentence), disguised(keyword), ([input, shownInput], [kw, shownKw]) =>
          matchesKeyword(input, kw) === matchesKeyword(shownInput, shownKw) &&
          matchesKeyword(input, kw) === matchesKeyword(shownInput, kw),
        ),
        { numRuns: 500 },
      );
    });
  });
});
