import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { z } from 'zod';
import type { PersonAnswer, PersonAsker } from '../proxy/approvals.js';

/** The choices of an approval prompt, as the form's one enum field offers them. */
export const APPROVAL_CHOICES = ['allow once', 'allow this tool for this session', 'deny'] as const;

const ANSWERS: Record<(typeof APPROVAL_CHOICES)[number], PersonAnswer> = {
  'allow once': 'allow-once',
  'allow this tool for this session': 'allow-session',
  deny: 'deny',
};

const contentSchema = z.object({ decision: z.enum(APPROVAL_CHOICES) });

/**
 * Approval prompts as MCP elicitation (`elicitation/create`, a form with one enum field)
 * through the bridge's MCP server. Only an `accept` with a valid choice approves anything;
 * `decline`, `cancel` and anything else are a refusal.
 */
export function elicitationAsker(server: () => Server, timeoutMs: number): PersonAsker {
  return {
    canAsk: () => server().getClientCapabilities()?.elicitation !== undefined,
    ask: async (message, signal) => {
      const result = await server().elicitInput(
        {
          mode: 'form',
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              decision: {
                type: 'string',
                title: 'Decision',
                description:
                  'Allow this call once, allow this tool for the rest of the session, or deny it',
                enum: [...APPROVAL_CHOICES],
              },
            },
            required: ['decision'],
          },
        },
        // The approvals' own timer ends the wait (its signal); the SDK's is only a backstop.
        { signal, timeout: timeoutMs + 10_000 },
      );
      if (result.action !== 'accept') return 'declined';
      const content = contentSchema.safeParse(result.content);
      return content.success ? ANSWERS[content.data.decision] : 'declined';
    },
  };
}
