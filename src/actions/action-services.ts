import { serviceOf, type ActionService, type FlowDefinition } from '../../machines/index.js';
import type { Config } from '../config.js';

// SPEC §8: an action whose service is not configured is an error at flow validation (and a
// failure with the same reason at run time).

const requirements: Record<Exclude<ActionService, 'none'>, { readonly label: string; readonly variables: string }> = {
  pontta: { label: 'Pontta', variables: 'PONTTA_AUTH_URL, PONTTA_BASE_URL, PONTTA_BUSINESS_UNIT, PONTTA_EMAIL, PONTTA_PASSWORD' },
  google_drive: { label: 'Google Drive', variables: 'GOOGLE_CLIENT_EMAIL, GOOGLE_PRIVATE_KEY (and GOOGLE_DRIVE_FOLDER_ID or folder_id)' },
  google_sheets: { label: 'Google Sheets', variables: 'GOOGLE_CLIENT_EMAIL, GOOGLE_PRIVATE_KEY (and GOOGLE_SHEET_ID or sheet_id)' },
};

/** Which services this configuration can reach. */
export function configuredServices(config: Pick<Config, 'pontta' | 'google'>): Record<ActionService, boolean> {
  const p = config.pontta;
  const g = config.google;
  const google = Boolean(g.clientEmail && g.privateKey);
  return {
    pontta: Boolean(p.authUrl && p.baseUrl && p.businessUnit && p.email && p.password),
    google_drive: google,
    google_sheets: google,
    none: true,
  };
}

export interface ServiceFinding {
  readonly message: string;
  readonly subflowId: number;
  readonly messageId: number;
}

export function unconfiguredActionFindings(definition: FlowDefinition, config: Pick<Config, 'pontta' | 'google'>): ServiceFinding[] {
  const available = configuredServices(config);
  const findings: ServiceFinding[] = [];
  for (const subflow of definition.subflows) {
    for (const message of subflow.messages) {
      (message.actions ?? []).forEach((action, index) => {
        const service = serviceOf(action.type);
        let missing = service !== 'none' && !available[service];
        if (!missing && action.type === 'drive.upload_files') missing = !(action.folder_id || config.google.driveFolderId);
        if (!missing && action.type === 'sheets.append_row') missing = !(action.sheet_id || config.google.sheetId);
        if (!missing || service === 'none') return;
        const { label, variables } = requirements[service];
        findings.push({
          message: `message ${message.id} of subflow ${subflow.id}: action ${index + 1} (${action.type}) needs ${label}, which is not configured (${variables}); at run time it fails and the flow goes on with {{action_error}}`,
          subflowId: subflow.id,
          messageId: message.id,
        });
      });
    }
  }
  return findings;
}
