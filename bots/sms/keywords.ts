/**
 * Carrier keywords (CTIA; Twilio's Advanced Opt-Out uses the same words): a message that is
 * exactly one of these words (any case, surrounding spaces and punctuation ignored) is about the
 * number's consent, not a command. https://help.twilio.com/articles/223134027
 */

/** Stop every message to this number. */
export const OPT_OUT_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'] as const;
/** Messages may go to this number again. */
export const OPT_IN_KEYWORDS = ['START', 'UNSTOP', 'YES'] as const;
/** Answer with a short help. */
export const HELP_KEYWORDS = ['HELP', 'INFO'] as const;

export type CarrierKeyword = 'stop' | 'start' | 'help';

/** Twilio's `OptOutType` parameter (Advanced Opt-Out) names the keyword class it matched. */
const OPT_OUT_TYPE: Record<string, CarrierKeyword> = { STOP: 'stop', START: 'start', HELP: 'help' };

/** The keyword class of a message, or undefined when it is an ordinary message. */
export function carrierKeyword(body: string, optOutType?: string): CarrierKeyword | undefined {
  const byTwilio = optOutType ? OPT_OUT_TYPE[optOutType.trim().toUpperCase()] : undefined;
  if (byTwilio) return byTwilio;
  const word = body
    .trim()
    .replace(/^[\s.!?'"]+|[\s.!?'"]+$/g, '')
    .toUpperCase();
  if ((OPT_OUT_KEYWORDS as readonly string[]).includes(word)) return 'stop';
  if ((OPT_IN_KEYWORDS as readonly string[]).includes(word)) return 'start';
  if ((HELP_KEYWORDS as readonly string[]).includes(word)) return 'help';
  return undefined;
}

/** The HELP answer: one GSM-7 segment. */
export const SMS_HELP_TEXT = 'ChittyChat todos by text: ADD <task>, LIST, DONE <n>, MORE, HELP. Reply STOP to stop all messages, START to get them again.';

/** The START answer: one GSM-7 segment. */
export const SMS_START_TEXT = 'ChittyChat: you will get messages on this number again. Reply HELP for help, STOP to stop.';
