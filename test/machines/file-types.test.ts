import { expect } from 'chai';
import type { FileInput } from '../../machines/index.js';
import { fileMatchesExpected, fileTypeOf, wrongFileTypeText } from '../../machines/index.js';

const file = (overrides: Partial<FileInput>): FileInput => ({ name: '', mimeType: null, url: null, path: null, ...overrides });

describe('file types', () => {
  describe('fileTypeOf', () => {
    it('takes the lower-case extension of the name first', () => {
      expect(fileTypeOf(file({ name: 'projeto.final.PDF', path: '/tmp/x.dwg' }))).to.equal('pdf');
    });

    it('falls back to the path, then the url path (ignoring query strings)', () => {
      expect(fileTypeOf(file({ path: '/media/abc/planta.DWG' }))).to.equal('dwg');
      expect(fileTypeOf(file({ url: 'https://cdn.example.com/m/doc.Pdf?sig=a.b' }))).to.equal('pdf');
    });

    it("returns '' when nothing has an extension", () => {
      expect(fileTypeOf(file({ name: 'arquivo', url: 'https://x.test/media/123' }))).to.equal('');
      expect(fileTypeOf(file({ name: '.bashrc' }))).to.equal('');
    });
  });

  describe('fileMatchesExpected', () => {
    it('accepts any file when nothing is expected', () => {
      expect(fileMatchesExpected(file({ name: 'x' }), [])).to.equal(true);
      expect(fileMatchesExpected(file({ name: 'x' }), ['  '])).to.equal(true);
    });

    it('compares extensions case-insensitively', () => {
      expect(fileMatchesExpected(file({ name: 'projeto.PDF' }), ['pdf', 'dwg'])).to.equal(true);
      expect(fileMatchesExpected(file({ name: 'planta.dwg' }), ['PDF', '.DWG'])).to.equal(true);
      expect(fileMatchesExpected(file({ name: 'foto.jpg' }), ['pdf', 'dwg'])).to.equal(false);
    });

    it('accepts by MIME type when there is no usable extension', () => {
      expect(fileMatchesExpected(file({ name: 'documento', mimeType: 'application/pdf' }), ['pdf'])).to.equal(true);
      expect(fileMatchesExpected(file({ mimeType: 'image/vnd.dwg' }), ['dwg'])).to.equal(true);
      expect(fileMatchesExpected(file({ mimeType: 'image/jpeg' }), ['jpg'])).to.equal(true);
      expect(fileMatchesExpected(file({ mimeType: 'image/jpeg' }), ['pdf'])).to.equal(false);
    });

    it('accepts MIME types and families listed as expected types', () => {
      expect(fileMatchesExpected(file({ mimeType: 'application/pdf' }), ['application/pdf'])).to.equal(true);
      expect(fileMatchesExpected(file({ mimeType: 'image/png' }), ['image/*'])).to.equal(true);
      expect(fileMatchesExpected(file({ mimeType: 'application/pdf' }), ['image/*'])).to.equal(false);
    });

    it('treats jpeg and jpg as the same type', () => {
      expect(fileMatchesExpected(file({ name: 'a.jpeg' }), ['jpg'])).to.equal(true);
    });
  });

  it('explains a wrong file in Portuguese, naming the expected types', () => {
    expect(wrongFileTypeText(file({ name: 'foto.jpg' }), ['pdf', 'dwg'])).to.equal(
      'O arquivo "foto.jpg" não é do tipo esperado. Envie um arquivo PDF ou DWG.',
    );
    expect(wrongFileTypeText(file({}), ['pdf', 'dwg', 'zip'])).to.equal(
      'O arquivo enviado não é do tipo esperado. Envie um arquivo PDF, DWG ou ZIP.',
    );
  });
});
