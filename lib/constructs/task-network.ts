import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../compliance';
import type { SiteConfig } from '../config';

/**
 * Where a stack's Lambda tasks run: the site's existing VPC (imported from configuration, never
 * looked up, so synth stays offline) and a security group that only lets them out on HTTPS, which
 * is all they need to reach the EKS API endpoint and the AWS service endpoints.
 */
export class TaskNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, network: SiteConfig['network']) {
    super(scope, id);
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: network.vpcId,
      availabilityZones: network.availabilityZones,
      privateSubnetIds: network.privateSubnetIds,
    });
    this.subnets = { subnets: this.vpc.privateSubnets };
    // The Lambda tasks need subnet ids only; route tables belong to the platform's network team.
    acknowledgeFindings(this, {
      'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId':
        'AOR only places Lambda network interfaces in these subnets and never reads their route tables.',
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'AOR Lambda tasks: outbound HTTPS only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to EKS and AWS endpoints');
  }
}
