import type { z } from 'zod';
import type { Database } from '../db/knex.js';
import { flowExportSchema } from './flow-export-schema.js';
import { insertTemplateTree } from './flow-transfer-repository.js';

// A furniture maker's everyday flow, so a fresh install answers something real: a greeting and
// menu, a quote request that collects the project file, after-sales help, and a human handover.
// Written as an export document, so it is checked by the same schema as any import.
const demoTemplate: z.input<typeof flowExportSchema> = {
  name: 'Demonstração - Móveis planejados',
  description: 'Fluxo de exemplo criado na primeira execução',
  created_by: 'demo',
  flows: [
    {
      name: 'Atendimento principal',
      is_default: true,
      // SPEC §10: a conversation silent for an hour is closed with a goodbye.
      close_after_minutes: 60,
      close_text: 'Vamos encerrar este atendimento por falta de resposta. Quando precisar, é só mandar uma mensagem!',
      subflows: [
        {
          name: 'Boas-vindas',
          trigger_keywords: ['menu', 'inicio'],
          messages: [
            { message_text: 'Olá, {{contact_name}}! Bem-vindo(a) à Marcenaria Demonstração.', wait_for_response: false },
            {
              message_text:
                'Como podemos ajudar?\n1 - Orçamento de móveis planejados\n2 - Assistência técnica\n3 - Falar com um atendente',
              // SPEC §10: a nudge after 10 minutes of silence, and a way out after 3 invalid answers.
              reminder_after_minutes: 10,
              reminder_text: 'Ainda está por aí, {{contact_name}}? Responda 1, 2 ou 3 (ou "atendente").',
              max_reprompts: 2,
              fallback_subflow_index: 3,
            },
          ],
        },
        {
          name: 'Orçamento',
          trigger_keywords: ['1', 'orçamento', 'orcamento'],
          messages: [
            { message_text: 'Ótimo! Qual ambiente você quer mobiliar? (cozinha, quarto, sala...)', save_response_as: 'ambiente' },
            {
              message_text: 'Envie o projeto do ambiente ({{ambiente}}) em PDF ou DWG.',
              wait_for_response: false,
              wait_for_file: true,
              expected_file_types: ['pdf', 'dwg'],
            },
            {
              message_text: 'Recebemos seu projeto, {{contact_name}}! Um projetista vai analisar e retornar em até 2 dias úteis.',
              wait_for_response: false,
              delay_seconds: 1,
            },
          ],
        },
        {
          name: 'Assistência técnica',
          trigger_keywords: ['2', 'assistência', 'assistencia', 'defeito'],
          // Back to the menu once the request is registered.
          parent_subflow_index: 0,
          messages: [
            { message_text: 'Por favor, informe o número do seu pedido.', save_response_as: 'pedido' },
            {
              message_text: 'Envie uma foto do problema ou um PDF (laudo, nota fiscal).',
              wait_for_response: false,
              wait_for_file: true,
              expected_file_types: ['jpg', 'jpeg', 'png', 'pdf'],
            },
            // SPEC §8: a Pontta occurrence with the file attached, the file in the contact's Drive
            // folder and a row in the sheet. Without Pontta or Google configured the actions fail
            // (validate says so) and the text still reads well: a person takes it from there.
            {
              message_text:
                'Obrigado, {{contact_name}}! Registramos sua solicitação de assistência para o pedido {{pedido}}. Protocolo: {{ocorrencia|um atendente vai registrá-la e continuar o atendimento por aqui}}.',
              wait_for_response: false,
              actions: [
                {
                  type: 'pontta.create_occurrence',
                  title: 'Assistência técnica - pedido {{pedido}}',
                  note: 'Pedido de assistência de {{contact_name}} ({{contact_number}}) pelo WhatsApp, pedido {{pedido}}.',
                  sales_order_code: '{{pedido}}',
                  save_result_as: 'ocorrencia',
                },
                { type: 'pontta.attach_files', occurrence: '{{ocorrencia}}' },
                { type: 'drive.upload_files' },
                { type: 'sheets.append_row', values: ['{{contact_name}}', '{{contact_number}}', '{{pedido}}', '{{ocorrencia}}'] },
              ],
            },
          ],
        },
        {
          // SPEC §10: "falar com atendente" hands the conversation to a human, in business hours.
          name: 'Atendente',
          trigger_keywords: ['3', 'atendente', 'humano', 'falar com atendente'],
          business_hours_only: true,
          out_of_hours_subflow_index: 4,
          handoff: true,
          messages: [{ message_text: 'Certo! Um atendente vai continuar a conversa em instantes.', wait_for_response: false }],
        },
        {
          name: 'Fora do horário',
          parent_subflow_index: 0,
          messages: [
            {
              message_text:
                'Nosso atendimento humano funciona de segunda a sexta, das 8h às 18h, e aos sábados das 8h às 12h. Deixe sua mensagem que retornamos no próximo horário!',
              wait_for_response: false,
            },
          ],
        },
      ],
    },
  ],
};

/** Creates the demo template and default flow when the database has no template at all. */
export async function seedDemoFlowIfEmpty(db: Database): Promise<boolean> {
  return db.transaction(async (trx) => {
    // web and worker may start together on one database: only one of them seeds.
    await trx.raw('SELECT pg_advisory_xact_lock(727274, 2)');
    if (await trx('flow_templates').first('id')) return false;
    const document = flowExportSchema.parse(demoTemplate);
    await insertTemplateTree(trx, document, { name: document.name, keepDefault: true });
    return true;
  });
}
