// SPEC §2 rule 4 with what GOSAC really sends: a media path without an extension, the file's name
// in the caption, and sometimes its MIME type.
import { expect } from 'chai';
import { fileMatchesExpected } from '../../machines/index.js';
import { buildInputs } from '../../src/conversations/conversation-inputs.js';
import type { InboxRow } from '../../src/conversations/step-repository.js';

function fileRow(overrides: Partial<InboxRow>): InboxRow {
  return {
    id: 1,
    ticket_id: 1,
    body: '',
    media_type: 'application',
    media_url: null,
    media_path: null,
    contact_name: null,
    contact_number: null,
    due_at: new Date(0).toISOString(),
    created_at: new Date(0).toISOString(),
    attempts: 0,
    ...overrides,
  };
}

const fileOf = (row: InboxRow) => buildInputs([row], 0, 0)[0]!.input.file!;

describe('file inputs from GOSAC (rule 4)', () => {
  it('names the file after its caption when the media path has no extension', () => {
    const file = fileOf(fileRow({ body: 'projeto.dwg', media_path: '1732456931-abc', media_url: 'https://g.example/media/1732456931-abc' }));
    expect(file.name).to.equal('projeto.dwg');
    expect(fileMatchesExpected(file, ['dwg'])).to.equal(true);
    expect(fileMatchesExpected(file, ['pdf'])).to.equal(false);
  });

  it('keeps the path name when it has an extension, and a caption that is a sentence out of it', () => {
    expect(fileOf(fileRow({ body: 'projeto.dwg', media_path: 'planta.pdf' })).name).to.equal('planta.pdf');
    expect(fileOf(fileRow({ body: 'segue o projeto.dwg da cozinha', media_path: 'abc' })).name).to.equal('abc');
  });

  it('uses the MIME type GOSAC sent when nothing has an extension', () => {
    const file = fileOf(fileRow({ body: 'segue', media_path: 'abc', media_mime_type: 'application/pdf' }));
    expect(file.mimeType).to.equal('application/pdf');
    expect(fileMatchesExpected(file, ['pdf'])).to.equal(true);
    expect(fileOf(fileRow({ media_path: 'abc' })).mimeType).to.equal(null);
  });
});
