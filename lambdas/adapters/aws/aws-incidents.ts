import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IncidentService } from '../../core/incident/incident-service';
import { awsLedgerAppender } from './aws-ledger';
import { DynamoDbIncidentRepository } from './dynamodb-incident-repository';
import { requiredEnv } from './environment';

/** The incident service every incident task uses: the incidents table and the ledger. */
export function awsIncidentService(): IncidentService {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return new IncidentService(
    new DynamoDbIncidentRepository(client, requiredEnv('INCIDENTS_TABLE_NAME')),
    awsLedgerAppender(),
  );
}

/** The Step Functions console page of an execution, in the GovCloud console. */
export function executionConsoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? process.env.AWS_REGION;
  return `${requiredEnv('CONSOLE_URL')}/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}

/** The channel → topic ARN map the stack passes the notify task. */
export function channelTopicArns(): Record<string, string> {
  return JSON.parse(requiredEnv('CHANNEL_TOPIC_ARNS')) as Record<string, string>;
}
