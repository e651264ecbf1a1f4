import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { type IRole, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from "../../shared/adapters/dynamo-table.ts";
import { ENV } from "../../shared/config.ts";
import type { StepwiseFunction } from "../lambda-function.ts";
import { acknowledge, nagString } from "../nag.ts";

/**
 * The stateful part of Stepwise: the table (records and the audit chain), the bucket (logs, run files, bundles) and
 * the key that seals secret values. All three are retained when the stack is deleted; nothing else in the stack holds
 * data, so every other construct can be replaced freely.
 */
export class Storage extends Construct {
  readonly table: Table;
  readonly bucket: Bucket;
  /** Encrypts secret values: input nodes', inbound webhooks' and subscriptions' signing secrets. */
  readonly secretsKey: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, "Table", {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: TableEncryption.AWS_MANAGED,
      // Run records and the audit chain are the product: a stack deletion must not take them along.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of TABLE_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }

    this.bucket = new Bucket(this, "Bucket", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
      // Retention of logs and files is a per-org setting applied by the service; only clean up abandoned uploads here.
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      // Run files over 1 MiB are answered with a redirect to a presigned URL, which the dashboard follows with fetch
      // from its own origin. The URL is the credential (5 minutes, one object), so any origin may read through it;
      // nothing else is allowed cross-origin.
      cors: [{ allowedMethods: [HttpMethods.GET, HttpMethods.HEAD], allowedOrigins: ["*"], maxAge: 3000 }],
    });
    acknowledge(this.bucket, {
      "AwsSolutions-S1":
        "Objects are read and written only by the service's functions, which record every run file with its sha256 " +
        "in the run's hash-chained audit trail; S3 server access logs would duplicate that at extra cost. CloudTrail " +
        "data events can be enabled per account where a second record is required.",
    });

    this.secretsKey = new Key(this, "SecretsKey", {
      description: "Stepwise: secret values of input nodes",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The variables every function needs to find the records and objects. */
  get environment(): Record<string, string> {
    return { [ENV.tableName]: this.table.tableName, [ENV.bucketName]: this.bucket.bucketName };
  }

  /** Reading and writing records (the grant names the indexes as `<table>/index/*`). */
  grantRecords(role: IRole): void {
    this.table.grantReadWriteData(role);
  }

  /** Reading, writing and deleting objects (uploads, downloads, presigned URLs, logs, run files). */
  grantObjects(f: StepwiseFunction): void {
    allow(
      f.role,
      ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      [this.bucket.arnForObjects("*")],
    );
    allow(f.role, ["s3:ListBucket"], [this.bucket.bucketArn]);
    acknowledge(f, {
      [`AwsSolutions-IAM5[Resource::${nagString(this, this.bucket.arnForObjects("*"))}]`]:
        "Object keys are per org and run and not known in advance; access is limited to this bucket's objects.",
    });
  }

  /** Listing and deleting objects under orgs/ only: what the retention sweep does, and nothing else. */
  grantPurge(f: StepwiseFunction): void {
    allow(f.role, ["s3:DeleteObject"], [this.bucket.arnForObjects("orgs/*")]);
    allow(f.role, ["s3:ListBucket"], [this.bucket.bucketArn]);
    acknowledge(f, {
      [`AwsSolutions-IAM5[Resource::${nagString(this, this.bucket.arnForObjects("orgs/*"))}]`]:
        "The sweep deletes the logs and files of whichever runs passed their org's retention; it may only delete, and only under orgs/.",
    });
  }

  /** Sealing and unsealing secret values. */
  grantSeal(role: IRole): void {
    allow(role, ["kms:Encrypt", "kms:Decrypt"], [this.secretsKey.keyArn]);
  }

  /** Unsealing secret values only. */
  grantUnseal(role: IRole): void {
    allow(role, ["kms:Decrypt"], [this.secretsKey.keyArn]);
  }
}

/** Adds one allow statement to a role's own policy. */
export function allow(role: IRole, actions: string[], resources: string[]): void {
  role.addToPrincipalPolicy(new PolicyStatement({ actions, resources }));
}
