// A flow using every SPEC §10 construct, built through the admin API as the front end would, with
// second-scale timers (0.05 min = 3 s). Shared by the end-to-end and crash tests of timers.
import { expect } from 'chai';
import { buildFlowThroughApi, type BuiltFlow } from './admin-flow-builder.js';

interface Admin {
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export const GREETING = 'Olá, {{contact_name}}!';
export const MENU = 'Escolha: 1 - orçamento, 2 - atendente';
export const REMINDER = 'Ainda está aí? Responda 1 ou 2.';
export const ASK_ROOM = 'Qual ambiente?';
export const CLOSE_TEXT = 'Encerramos por inatividade. Até logo!';
export const HELP = 'Não entendi. Um atendente pode ajudar: digite 2.';
export const AGENT = 'Um atendente vai falar com você.';
export const OUT_OF_HOURS = 'Estamos fora do horário. Voltamos amanhã às 8h.';

export interface AttendantTimings {
  /** Minutes (fractions): the menu's reminder. */
  readonly reminder: number;
  /** Minutes: the flow closes silent conversations. null: never. */
  readonly close: number | null;
}

export async function buildAttendantFlow(service: Admin, timings: AttendantTimings): Promise<BuiltFlow> {
  const built = await buildFlowThroughApi(service, [
    { name: 'Início', messages: [{ text: GREETING, waitForResponse: false }, { text: MENU }] },
    { name: 'Orçamento', keywords: ['1', 'orçamento'], messages: [{ text: ASK_ROOM, saveResponseAs: 'ambiente' }, { text: 'Obrigado!', waitForResponse: false }] },
    { name: 'Atendente', keywords: ['2', 'atendente'], messages: [{ text: AGENT, waitForResponse: false }] },
    { name: 'Fora do horário', messages: [{ text: OUT_OF_HOURS, waitForResponse: false }] },
    { name: 'Ajuda', messages: [{ text: HELP }] },
  ]);
  const ok = async (method: string, path: string, body: unknown) => {
    const response = await service.admin(method, path, body);
    expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).to.equal(200);
  };
  await ok('PATCH', `/api/flows/${built.flowId}`, { close_after_minutes: timings.close, close_text: CLOSE_TEXT });
  await ok('PATCH', `/api/subflows/${built.subflowIds['Atendente']}`, {
    handoff: true,
    business_hours_only: true,
    out_of_hours_subflow_id: built.subflowIds['Fora do horário'],
  });
  await ok('PUT', `/api/flow-messages/${built.messageIds['Início']![1]}`, {
    reminder_after_minutes: timings.reminder,
    reminder_text: REMINDER,
    max_reprompts: 2,
    fallback_subflow_id: built.subflowIds['Ajuda'],
  });
  return built;
}
