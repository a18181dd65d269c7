/** The command grammar shared by every channel: `parseCommand` text → `Command`, plus usage/help text. */
export { tokenize, type Token, type WordToken, type FlagToken } from './tokenize.ts';
export {
  parseCommand,
  MAX_COMMAND_LENGTH,
  type Command,
  type CommandName,
  type ParseResult,
  type ParseOptions,
  type SubscriptionTarget,
  type UnsubscribeTarget,
  type ResolveChoice,
} from './commands.ts';
export { USAGE, FAMILIES, FAMILY_USAGE, GENERAL_USAGE, helpText, type UsageKey, type Family } from './usage.ts';
export {
  readRef,
  SYNC_DOMAINS,
  PRIORITIES,
  TODO_STATUSES,
  type Ref,
  type SyncDomain,
  type Priority,
  type TodoStatus,
} from './values.ts';
