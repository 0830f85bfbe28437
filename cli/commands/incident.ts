import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { DynamoDbIncidentRepository } from '../../lambdas/adapters/aws/dynamodb-incident-repository';
import { INCIDENT_STATUSES, type Incident, type IncidentStatus } from '../../lambdas/core/incident/incident';
import { type Actor, IncidentService } from '../../lambdas/core/incident/incident-service';
import { openLocalState } from '../../local/harness/local-state';
import { deployedLedgerAppender, deployedOperator, localOperator } from '../operator-identity';
import { stateDirectory } from '../state';
import { StackOutputMissingError } from './ledger';

interface Target {
  readonly stack?: string;
  readonly region: string;
}

interface Session {
  readonly incidents: IncidentService;
  readonly repository: DynamoDbIncidentRepository;
  readonly actor: Actor;
  /** Flushes what was recorded (the local ledger integrates and signs) and releases resources. */
  close(): Promise<void>;
}

/**
 * `aor incident …`: what an operator does to incidents. Without `--stack` it acts on the local
 * state the drills use; with it, on the deployed incidents table and ledger, as the caller's own
 * IAM principal (which is what the ledger records as the actor).
 */
export function registerIncidentCommands(program: Command): void {
  const incident = program.command('incident').description('list, acknowledge, resolve and close incidents');
  const withTarget = (command: Command) =>
    command
      .option('--stack <name>', 'the deployed incident response stack (default: the local drills)')
      .option('--region <region>', 'region of --stack', process.env.AWS_REGION ?? 'us-gov-west-1');

  withTarget(incident.command('list'))
    .description('incidents, newest first')
    .option('--status <status>', `only this status (${INCIDENT_STATUSES.join(', ')})`)
    .option('--json', 'print JSON')
    .action(async (options: Target & { status?: IncidentStatus; json?: boolean }) => {
      await withSession(options, async ({ repository }) => {
        const incidents = (await repository.listIncidents()).filter(
          (i) => !options.status || i.status === options.status,
        );
        if (options.json) console.log(JSON.stringify(incidents, null, 2));
        else printIncidents(incidents);
      });
    });

  withTarget(incident.command('show'))
    .description('an incident and its timeline')
    .argument('<id>')
    .action(async (id: string, options: Target) => {
      await withSession(options, async ({ incidents, repository }) => {
        const found = await incidents.requireIncident(id);
        printIncidents([found]);
        for (const event of await repository.readTimeline(id)) {
          console.log(`  ${event.at}  ${event.type.padEnd(16)} ${event.message}  (${event.actor})`);
        }
      });
    });

  withTarget(incident.command('ack'))
    .description('acknowledge: stops escalation; an open incident moves to investigating')
    .argument('<id>')
    .action(async (id: string, options: Target) => {
      await withSession(options, async ({ incidents, actor }) => {
        const acked = await incidents.acknowledge(id, actor);
        console.log(
          `${acked.id} acknowledged by ${acked.acknowledgedBy} at ${acked.acknowledgedAt}; status ${acked.status}`,
        );
      });
    });

  withTarget(incident.command('resolve'))
    .description('mark resolved (records the time to resolve)')
    .argument('<id>')
    .option('--notes <text>', 'resolution notes')
    .action(async (id: string, options: Target & { notes?: string }) => {
      await withSession(options, async ({ incidents, actor }) => {
        const resolved = await incidents.changeStatus(id, 'resolved', actor, options.notes);
        console.log(`${resolved.id} resolved after ${resolved.timeToResolveSeconds} s`);
      });
    });

  withTarget(incident.command('close'))
    .description('close a resolved incident; resolution notes are required')
    .argument('<id>')
    .requiredOption('--notes <text>', 'resolution notes: cause, fix, follow-ups')
    .action(async (id: string, options: Target & { notes: string }) => {
      await withSession(options, async ({ incidents, actor }) => {
        const closed = await incidents.changeStatus(id, 'closed', actor, options.notes);
        console.log(`${closed.id} closed`);
      });
    });
}

async function withSession(target: Target, work: (session: Session) => Promise<void>): Promise<void> {
  const session = target.stack ? await deployedSession(target.stack, target.region) : await localSession();
  try {
    await work(session);
  } finally {
    await session.close();
  }
}

async function localSession(): Promise<Session> {
  const state = await openLocalState(stateDirectory());
  const repository = new DynamoDbIncidentRepository(state.dynamo.documentClient, state.incidentsTable);
  const operator = localOperator();
  return {
    repository,
    incidents: new IncidentService(repository, state.ledgers.primary.appender(operator.writer)),
    actor: operator.actor,
    close: async () => {
      await state.ledgers.primary.ledger.integrate();
      await state.close();
    },
  };
}

async function deployedSession(stackName: string, region: string): Promise<Session> {
  const { Stacks } = await new CloudFormationClient({ region }).send(
    new DescribeStacksCommand({ StackName: stackName }),
  );
  const tableName = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'IncidentsTableName')?.OutputValue;
  if (!tableName) throw new StackOutputMissingError(`stack ${stackName} has no output IncidentsTableName`);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const operator = await deployedOperator(region);
  const repository = new DynamoDbIncidentRepository(documents, tableName);
  return {
    repository,
    incidents: new IncidentService(repository, deployedLedgerAppender(region, operator)),
    actor: operator.actor,
    close: async () => {},
  };
}

function printIncidents(incidents: readonly Incident[]): void {
  if (incidents.length === 0) {
    console.log('no incidents');
    return;
  }
  console.log(
    `${'ID'.padEnd(18)} ${'STATUS'.padEnd(13)} ${'SEVERITY'.padEnd(8)} ${'OPENED'.padEnd(24)} ${'ACK'.padEnd(5)} TITLE`,
  );
  for (const i of incidents) {
    const ack = i.acknowledgedAt ? 'yes' : 'no';
    console.log(
      `${i.id.padEnd(18)} ${i.status.padEnd(13)} ${i.severity.padEnd(8)} ${i.createdAt.padEnd(24)} ${ack.padEnd(5)} ${i.title}`,
    );
  }
}
