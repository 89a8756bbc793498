import { expect } from 'chai';

interface Admin {
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export interface MessageSpec {
  text: string;
  waitForResponse?: boolean;
  waitForFile?: boolean;
  expectedFileTypes?: string[];
  delaySeconds?: number;
  saveResponseAs?: string;
}

export interface SubflowSpec {
  name: string;
  keywords?: string[];
  /** Name of an earlier subflow of the same flow. */
  parent?: string;
  messages: MessageSpec[];
}

export interface BuiltFlow {
  templateId: number;
  flowId: number;
  subflowIds: Record<string, number>;
  /** Message ids per subflow name, in the order given. */
  messageIds: Record<string, number[]>;
}

/** Builds a template with one default flow through the admin API, as the front end does. */
export async function buildFlowThroughApi(
  service: Admin,
  subflows: SubflowSpec[],
  options: { isDefault?: boolean; name?: string } = {},
): Promise<BuiltFlow> {
  const created = async (path: string, body: unknown): Promise<number> => {
    const response = await service.admin('POST', path, body);
    expect(response.status, `${path}: ${JSON.stringify(response.body)}`).to.be.oneOf([200, 201]);
    expect(response.body.status).to.equal('created');
    return response.body.id as number;
  };
  const templateId = await created('/api/flow-templates', { name: options.name ?? 'Móveis', created_by: 'test' });
  const flowId = await created('/api/flows', {
    template_id: templateId,
    name: options.name ?? 'Atendimento',
    is_default: options.isDefault ?? true,
  });
  const subflowIds: Record<string, number> = {};
  const messageIds: Record<string, number[]> = {};
  for (const [index, subflow] of subflows.entries()) {
    subflowIds[subflow.name] = await created('/api/subflows', {
      flow_id: flowId,
      name: subflow.name,
      trigger_keywords: subflow.keywords ?? [],
      order_index: index,
      ...(subflow.parent ? { parent_subflow_id: subflowIds[subflow.parent] } : {}),
    });
    messageIds[subflow.name] = [];
    for (const [messageIndex, message] of subflow.messages.entries()) {
      messageIds[subflow.name]!.push(
        await created('/api/flow-messages', {
          subflow_id: subflowIds[subflow.name],
          message_text: message.text,
          order_index: messageIndex,
          wait_for_response: message.waitForResponse ?? true,
          wait_for_file: message.waitForFile ?? false,
          expected_file_types: message.expectedFileTypes ?? [],
          delay_seconds: message.delaySeconds ?? 0,
          ...(message.saveResponseAs ? { save_response_as: message.saveResponseAs } : {}),
        }),
      );
    }
  }
  return { templateId, flowId, subflowIds, messageIds };
}
