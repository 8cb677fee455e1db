// The `status` subcommand: a health table per layer, or with `--doctor` the checks that break a pipeline and their runbook steps.
import { Command, numberFlag, parseFlags } from '../command';
import { defaultClients } from './clients';
import { collectDoctorReport, formatDoctorTable } from './doctor';
import { collectStatus, formatTable } from './status';

export const statusCommand: Command = {
  summary: 'Say whether each layer of a deployed stack is healthy (exit 1 when one is not); --doctor: each check with its runbook step.',
  usage: 'status [--stack NAME] [--json] [--doctor] [--slo-ms 5000] [--max-lag-seconds 30] [--namespace AgentDataStack]',
  async run(args, io) {
    const flags = parseFlags(args, { 'stack': 'string', 'json': 'boolean', 'doctor': 'boolean', 'slo-ms': 'string', 'max-lag-seconds': 'string', 'namespace': 'string' });
    const stack = (flags.stack as string | undefined) ?? io.env.AGENT_DATA_STACK_NAME ?? 'AgentDataStack';
    const clients = io.clients ?? defaultClients();
    if (flags.doctor) {
      const report = await collectDoctorReport(clients, stack, {
        freshnessSloMs: numberFlag(flags, 'slo-ms'), maxConsumerLagSeconds: numberFlag(flags, 'max-lag-seconds'), clock: io.clock,
      });
      io.stdout(flags.json ? JSON.stringify(report, null, 2) : formatDoctorTable(report));
      return report.healthy ? 0 : 1;
    }
    const report = await collectStatus(clients, stack, {
      freshnessSloMs: numberFlag(flags, 'slo-ms'),
      maxConsumerLagSeconds: numberFlag(flags, 'max-lag-seconds'),
      metricsNamespace: flags.namespace as string | undefined,
      clock: io.clock,
    });
    io.stdout(flags.json ? JSON.stringify(report, null, 2) : formatTable(report));
    return report.healthy ? 0 : 1;
  },
};
