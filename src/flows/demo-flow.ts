import type { Database } from '../db/knex.js';

interface DemoSubflow {
  name: string;
  keywords: string[];
  returnsToMenu: boolean;
  messages: Array<{
    text: string;
    waitForResponse?: boolean;
    waitForFile?: boolean;
    expectedFileTypes?: string[];
    delaySeconds?: number;
    saveResponseAs?: string;
  }>;
}

// A furniture maker's everyday flow, so a fresh install answers something real: a greeting and
// menu, a quote request that collects the project file, after-sales help, and a human handover.
const demoSubflows: DemoSubflow[] = [
  {
    name: 'Boas-vindas',
    keywords: ['menu', 'inicio'],
    returnsToMenu: false,
    messages: [
      { text: 'Olá, {{contact_name}}! Bem-vindo(a) à Marcenaria Demonstração.', waitForResponse: false },
      {
        text: 'Como podemos ajudar?\n1 - Orçamento de móveis planejados\n2 - Assistência técnica\n3 - Falar com um atendente',
      },
    ],
  },
  {
    name: 'Orçamento',
    keywords: ['1', 'orçamento', 'orcamento'],
    returnsToMenu: false,
    messages: [
      { text: 'Ótimo! Qual ambiente você quer mobiliar? (cozinha, quarto, sala...)', saveResponseAs: 'ambiente' },
      {
        text: 'Envie o projeto do ambiente ({{ambiente}}) em PDF ou DWG.',
        waitForResponse: false,
        waitForFile: true,
        expectedFileTypes: ['pdf', 'dwg'],
      },
      {
        text: 'Recebemos seu projeto, {{contact_name}}! Um projetista vai analisar e retornar em até 2 dias úteis.',
        waitForResponse: false,
        delaySeconds: 1,
      },
    ],
  },
  {
    name: 'Assistência técnica',
    keywords: ['2', 'assistência', 'assistencia', 'defeito'],
    returnsToMenu: true,
    messages: [
      { text: 'Por favor, informe o número do seu pedido.', saveResponseAs: 'pedido' },
      {
        text: 'Obrigado! Registramos a solicitação de assistência para o pedido {{pedido}}.',
        waitForResponse: false,
      },
    ],
  },
  {
    name: 'Atendente',
    keywords: ['3', 'atendente', 'humano'],
    returnsToMenu: false,
    messages: [{ text: 'Certo! Um atendente vai continuar a conversa em instantes.', waitForResponse: false }],
  },
];

/** Creates the demo template and default flow when the database has no template at all. */
export async function seedDemoFlowIfEmpty(db: Database): Promise<boolean> {
  return db.transaction(async (trx) => {
    // web and worker may start together on one database: only one of them seeds.
    await trx.raw('SELECT pg_advisory_xact_lock(727274, 2)');
    const existing = await trx('flow_templates').first('id');
    if (existing) return false;
    const [template] = await trx('flow_templates')
      .insert({ name: 'Demonstração - Móveis planejados', description: 'Fluxo de exemplo criado na primeira execução', created_by: 'demo' })
      .returning('id');
    const [flow] = await trx('flows')
      .insert({ template_id: template.id, name: 'Atendimento principal', is_default: true, order_index: 0 })
      .returning('id');
    let menuSubflowId: number | undefined;
    for (const [subflowIndex, subflow] of demoSubflows.entries()) {
      const [row] = await trx('subflows')
        .insert({
          flow_id: flow.id,
          name: subflow.name,
          trigger_keywords: subflow.keywords,
          order_index: subflowIndex,
          parent_subflow_id: subflow.returnsToMenu ? menuSubflowId : null,
        })
        .returning('id');
      menuSubflowId ??= row.id as number;
      await trx('flow_messages').insert(
        subflow.messages.map((message, messageIndex) => ({
          subflow_id: row.id,
          message_text: message.text,
          order_index: messageIndex,
          wait_for_response: message.waitForResponse ?? true,
          wait_for_file: message.waitForFile ?? false,
          expected_file_types: message.expectedFileTypes ?? [],
          delay_seconds: message.delaySeconds ?? 0,
          save_response_as: message.saveResponseAs ?? null,
        })),
      );
    }
    return true;
  });
}
