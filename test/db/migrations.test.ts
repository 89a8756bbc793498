import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('database migrations', () => {
  let testDb: TestDatabase;
  before(async () => {
    testDb = await createTestDatabase();
  });
  after(() => testDb.drop());

  it('creates every table of the schema', async () => {
    const rows = await testDb.db('information_schema.tables')
      .where({ table_schema: 'public' })
      .pluck('table_name');
    expect(rows).to.include.members([
      'flow_templates', 'flows', 'subflows', 'flow_messages', 'flow_versions',
      'user_conversations', 'message_history', 'received_files', 'system_settings', 'activity_logs',
    ]);
  });

  it('installs the job queue schema', async () => {
    const result = await testDb.db.raw("SELECT to_regproc('graphile_worker.add_job') AS fn");
    expect(result.rows[0].fn).to.equal('graphile_worker.add_job');
  });

  it('refuses a second active default flow', async () => {
    const [template] = await testDb.db('flow_templates').insert({ name: 't' }).returning('id');
    await testDb.db('flows').insert({ template_id: template.id, name: 'a', is_default: true });
    await testDb.db('flows').insert({ template_id: template.id, name: 'b', is_default: true, is_active: false });
    let failure: unknown;
    try {
      await testDb.db('flows').insert({ template_id: template.id, name: 'c', is_default: true });
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.match(/flows_one_active_default/);
  });

  it('refuses a second active conversation for one contact', async () => {
    const [template] = await testDb.db('flow_templates').insert({ name: 't2' }).returning('id');
    const [flow] = await testDb.db('flows').insert({ template_id: template.id, name: 'x' }).returning('id');
    const [version] = await testDb.db('flow_versions')
      .insert({ flow_id: flow.id, content_hash: 'h', definition: {}, machine_config: {} })
      .returning('id');
    const row = { contact_id: 1, flow_id: flow.id, flow_version_id: version.id, conversation_state: {} };
    await testDb.db('user_conversations').insert(row);
    let failure: unknown;
    try {
      await testDb.db('user_conversations').insert(row);
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.match(/user_conversations_one_active_per_contact/);
  });
});
