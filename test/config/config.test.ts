// The environment as operators really write it: empty variables in .env and compose files, one of
// NODE_ENV / ENVIRONMENT saying production, typos in values. Empty means the default; every bad
// value stops the start with its variable named.
import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { ConfigError, configVariableNames, loadConfig } from '../../src/config.js';
import { parseSettingValue } from '../../src/settings/setting-definitions.js';
import { projectRoot } from '../support/service-process.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

const productionBasics = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', ADMIN_API_TOKEN: 'a-token-for-production-0123' };

describe('configuration', () => {
  describe('an empty variable means its default', () => {
    it('PORT= and DEBOUNCE_TIME= are the defaults, not 0', () => {
      const config = loadConfig({ PORT: '', DEBOUNCE_TIME: '' });
      expect(config.port).to.equal(8000);
      expect(config.settingsDefaults.DEBOUNCE_TIME).to.equal(2000);
    });

    it('for every variable the configuration reads (blank counts as empty)', () => {
      const defaults = loadConfig({});
      for (const blank of ['', '  ']) {
        const allEmpty = Object.fromEntries(configVariableNames.map((name) => [name, blank]));
        expect(loadConfig(allEmpty), `every variable set to ${JSON.stringify(blank)}`).to.deep.equal(defaults);
      }
      expect(configVariableNames).to.include.members(['PORT', 'DEBOUNCE_TIME', 'LOG_LEVEL', 'MESSAGE_COOLDOWN', 'DEMO_FLOW']);
    });

    it('DATABASE_URL= and ADMIN_API_TOKEN= count as missing in production', () => {
      expect(problemsOf({ NODE_ENV: 'production', DATABASE_URL: '', ADMIN_API_TOKEN: ' ' })).to.deep.equal([
        'DATABASE_URL: required in production',
        'ADMIN_API_TOKEN: required in production',
      ]);
    });
  });

  describe('production', () => {
    it('is production when ENVIRONMENT says so, whatever NODE_ENV says', () => {
      expect(loadConfig({ ...productionBasics, ENVIRONMENT: 'production', NODE_ENV: 'development' }).production).to.equal(true);
      expect(loadConfig({ ...productionBasics, NODE_ENV: 'production', ENVIRONMENT: 'staging' }).production).to.equal(true);
      expect(loadConfig({ ...productionBasics, ENVIRONMENT: ' Production ' }).production).to.equal(true);
      expect(loadConfig({ NODE_ENV: 'development', ENVIRONMENT: 'staging' }).production).to.equal(false);
    });

    it('ENVIRONMENT=production with NODE_ENV=development still requires DATABASE_URL and ADMIN_API_TOKEN', () => {
      expect(problemsOf({ ENVIRONMENT: 'production', NODE_ENV: 'development' })).to.deep.equal([
        'DATABASE_URL: required in production',
        'ADMIN_API_TOKEN: required in production',
      ]);
    });

    it('creates the demo flow only outside production, unless DEMO_FLOW=true asks for it', () => {
      expect(loadConfig({}).createDemoFlow).to.equal(true);
      expect(loadConfig({ DEMO_FLOW: 'false' }).createDemoFlow).to.equal(false);
      expect(loadConfig({ ...productionBasics, NODE_ENV: 'production' }).createDemoFlow).to.equal(false);
      expect(loadConfig({ ...productionBasics, ENVIRONMENT: 'production', DEMO_FLOW: '' }).createDemoFlow).to.equal(false);
      expect(loadConfig({ ...productionBasics, NODE_ENV: 'production', DEMO_FLOW: 'true' }).createDemoFlow).to.equal(true);
    });
  });

  describe('bad values', () => {
    it('a bad LOG_LEVEL is a validation error naming LOG_LEVEL', () => {
      const problems = problemsOf({ LOG_LEVEL: 'loud' });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent$/);
    });

    it('names every bad variable at once', () => {
      const bad = {
        PORT: 'eighty',
        DEBOUNCE_TIME: '-5',
        MESSAGE_COOLDOWN: '1.5',
        CONVERSATION_TIMEOUT_MINUTES: '0',
        LOG_LEVEL: 'loud',
        BOT_ENABLED: 'maybe',
        ROLE: 'cron',
        DATABASE_URL: 'not a url',
        GOSAC_SEND_MODE: 'fax',
        STEP_BATCH_SIZE: '0',
        HANDOFF_RESUME_MINUTES: '0',
        DEMO_FLOW: 'sometimes',
      };
      const problems = problemsOf(bad);
      for (const name of Object.keys(bad)) {
        expect(problems.filter((problem) => problem.startsWith(`${name}: `)), name).to.have.length(1);
      }
      expect(problems).to.have.length(Object.keys(bad).length);
      expect(() => loadConfig(bad)).to.throw(ConfigError, /^invalid configuration: [^\n]+$/);
    });

    it('names GOSAC_BASE_URL when a key is set without it, alongside other problems', () => {
      expect(problemsOf({ GOSAC_AUTHORIZATION_KEY: 'INTEGRATION x', PORT: '70000' })).to.deep.equal([
        'PORT: must be at most 65535',
        'GOSAC_BASE_URL: required when GOSAC_AUTHORIZATION_KEY is set',
      ]);
    });
  });

  describe('CONVERSATION_TIMEOUT_MINUTES', () => {
    it('takes fractional minutes (0.02 = 1.2 s), in the environment and as a setting', () => {
      expect(loadConfig({ CONVERSATION_TIMEOUT_MINUTES: '0.02' }).settingsDefaults.CONVERSATION_TIMEOUT_MINUTES).to.equal(0.02);
      expect(parseSettingValue('CONVERSATION_TIMEOUT_MINUTES', 0.5, 'number')).to.deep.equal({ ok: true, value: 0.5 });
      expect(parseSettingValue('CONVERSATION_TIMEOUT_MINUTES', '0.05', undefined)).to.deep.equal({ ok: true, value: 0.05 });
      expect(parseSettingValue('CONVERSATION_TIMEOUT_MINUTES', 0, 'number').ok).to.equal(false);
    });
  });

  describe('npm start with a bad LOG_LEVEL', function () {
    this.timeout(30_000);

    it('exits 78 with one line naming LOG_LEVEL (the boot logger does not crash on it)', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: projectRoot,
        env: { ...process.env, LOG_LEVEL: 'loud', PORT: '', DATABASE_URL: 'postgres://u@127.0.0.1:1/none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`still running after 20 s: ${output}`));
        }, 20_000);
        child.once('exit', (exitCode) => {
          clearTimeout(timer);
          resolve(exitCode);
        });
      });
      expect(code, output).to.equal(78);
      const lines = output.trim().split('\n');
      expect(lines, output).to.have.length(1);
      expect(JSON.parse(lines[0]!)).to.include({ level: 60 });
      expect(JSON.parse(lines[0]!).msg).to.match(/LOG_LEVEL: must be one of/);
    });
  });
});
