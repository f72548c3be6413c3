/**
 * `lanner list-events`: the event types, like `falco --list-events`: those the probe traces with
 * their parameters, then the names Falco knows that this probe does not trace (rules may name
 * them; they load with a warning and never match those events).
 */
import type { Command } from 'commander';
import { EVENT_TYPES, UNTRACED_EVENT_NAMES } from '../probe';

interface EventListing {
  readonly traced: readonly { readonly name: string; readonly category: string; readonly params: readonly { readonly name: string; readonly type: string }[] }[];
  readonly notTraced: readonly string[];
}

export function listEvents(): EventListing {
  return {
    traced: EVENT_TYPES.filter((t) => t.category !== 'meta').map((t) => ({ name: t.name, category: t.category, params: t.params.map((p) => ({ name: p.name, type: p.kind })) })),
    notTraced: [...UNTRACED_EVENT_NAMES].sort(),
  };
}

export function formatEventList(json: boolean): string {
  const l = listEvents();
  if (json) return JSON.stringify(l, null, 2);
  const lines = ['Traced events (syscall exits and process events):'];
  for (const t of l.traced) lines.push(`< ${t.name}(${t.params.map((p) => `${p.type} ${p.name}`).join(', ')})`);
  lines.push('', `Known to Falco, not traced by this probe (${l.notTraced.length}; rules naming them load with a warning):`);
  let line = '';
  for (const n of l.notTraced) {
    if (line.length + n.length + 1 > 100) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line} ${n}` : n;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

export function addListEventsCommand(program: Command): void {
  program
    .command('list-events')
    .description('print the event types the probe traces, and those Falco knows that it does not')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) => {
      process.stdout.write(`${formatEventList(opts.json === true)}\n`);
      process.exitCode = 0;
    });
}
