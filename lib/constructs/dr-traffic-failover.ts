import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  FAILOVER_SIGNAL,
  failoverAlarmName,
  failoverSignalDimensions,
} from '../../lambdas/adapters/aws/dr-failover-signal';
import type { TrafficRoutingSettings } from '../../lambdas/core/recovery/ports';
import type { AorConfig } from '../config';

/** The routing configuration of `mode: failover`, which names the primary site's target. */
type FailoverRouting = Extract<AorConfig['routing'], { mode: 'failover' }>;

export interface DrTrafficFailoverProps {
  readonly routing: FailoverRouting;
  /** Told when the record's traffic moves to the DR site (ALARM) and back (OK). */
  readonly opsTopic: sns.ITopic;
  /** The key the ops topic is encrypted with: CloudWatch must use it to publish there. */
  readonly topicKey: kms.IKey;
}

/**
 * The record's traffic switch that survives the primary region's loss, deployed beforehand in the DR
 * region: two failover CNAMEs in the private hosted zone (PRIMARY to the primary site, SECONDARY to
 * the DR site), a Route 53 health check on the PRIMARY that follows an alarm, and the alarm, on the
 * failover signal the DR run publishes in this region. A run then moves traffic with one PutMetricData:
 * Route 53's data plane answers the SECONDARY once the health check is unhealthy, and no call to
 * Route 53's control plane (homed in us-gov-west-1) is needed. Creating or changing these resources
 * does need that control plane: deploy them while us-gov-west-1 is up.
 *
 * CNAMEs, because a GovCloud private hosted zone aliases only records of the same zone, never a load
 * balancer; so the record cannot be the zone apex (Route 53 refuses a CNAME there, and the deploy fails).
 */
export class DrTrafficFailover extends Construct {
  readonly alarm: cloudwatch.Alarm;
  readonly healthCheck: route53.HealthCheck;

  constructor(scope: Construct, id: string, props: DrTrafficFailoverProps) {
    super(scope, id);
    const { routing } = props;
    const stack = Stack.of(this);

    this.alarm = new cloudwatch.Alarm(this, 'FailoverSignalAlarm', {
      alarmName: failoverAlarmName(routing.recordName),
      alarmDescription: `In ALARM, ${routing.recordName} answers the DR site (${routing.drTarget}): a DR run sent its traffic there. Publish ${FAILOVER_SIGNAL.metricName} = 0 to send it back to ${routing.primaryTarget}.`,
      metric: new cloudwatch.Metric({
        namespace: FAILOVER_SIGNAL.namespace,
        metricName: FAILOVER_SIGNAL.metricName,
        dimensionsMap: failoverSignalDimensions(routing.recordName),
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.seconds(FAILOVER_SIGNAL.periodSeconds),
      }),
      threshold: FAILOVER_SIGNAL.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // The signal is one datapoint, not a stream: the alarm keeps the state the last one set.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    const notify = new actions.SnsAction(props.opsTopic);
    this.alarm.addAlarmAction(notify);
    this.alarm.addOkAction(notify);
    this.allowAlarmToNotify(props);

    this.healthCheck = new route53.HealthCheck(this, 'PrimaryHealthCheck', {
      type: route53.HealthCheckType.CLOUDWATCH_METRIC,
      alarmIdentifier: { name: this.alarm.alarmName, region: stack.region },
      insufficientDataHealthStatus: route53.InsufficientDataHealthStatusEnum.LAST_KNOWN_STATUS,
    });

    // Imported by id: the zone's name is not configuration, and a name with the root's dot needs none.
    const zone = route53.HostedZone.fromHostedZoneId(this, 'Zone', routing.hostedZoneId);
    const recordName = `${routing.recordName.replace(/\.$/, '')}.`;
    // Route 53's advice for records with health checks: a TTL of 60 s or less.
    const ttl = Duration.seconds(routing.ttlSeconds);
    new route53.CnameRecord(this, 'PrimaryRecord', {
      zone,
      recordName,
      domainName: routing.primaryTarget,
      ttl,
      failover: route53.Failover.PRIMARY,
      setIdentifier: 'primary-site',
      healthCheck: this.healthCheck,
    });
    // No health check: Route 53 answers it whenever the PRIMARY is unhealthy.
    new route53.CnameRecord(this, 'DrRecord', {
      zone,
      recordName,
      domainName: routing.drTarget,
      ttl,
      failover: route53.Failover.SECONDARY,
      setIdentifier: 'dr-site',
    });
  }

  /**
   * The ops topic's policy and its key's policy name only the task's role and the account; CloudWatch
   * publishes as a service, so both must let it in, for this alarm only.
   */
  private allowAlarmToNotify(props: DrTrafficFailoverProps): void {
    const stack = Stack.of(this);
    const principal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    // Built from the alarm's fixed name, not its attribute: the key would otherwise depend on the
    // alarm, which depends on the topic, which depends on the key.
    const alarmArn = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: failoverAlarmName(props.routing.recordName),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const fromThisAlarm = {
      ArnEquals: { 'aws:SourceArn': alarmArn },
      StringEquals: { 'aws:SourceAccount': stack.account },
    };
    props.opsTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [principal],
        actions: ['sns:Publish'],
        resources: [props.opsTopic.topicArn],
        conditions: fromThisAlarm,
      }),
    );
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [principal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: fromThisAlarm,
      }),
    );
  }
}

/** What the DR task needs of the routing configuration (RecoverySettings' `routing`). */
export function trafficRoutingSettings(config: AorConfig): TrafficRoutingSettings {
  const { routing, disasterRecovery } = config;
  return {
    mode: routing.mode,
    hostedZoneId: routing.hostedZoneId,
    recordName: routing.recordName,
    drTarget: routing.drTarget,
    ttlSeconds: routing.ttlSeconds,
    ...(disasterRecovery.targetGroupArn && { targetGroupArn: disasterRecovery.targetGroupArn }),
    healthCheckPath: disasterRecovery.healthCheckPath,
  };
}
