import { DefaultStackSynthesizer, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import {
  AllowedMethods,
  type BehaviorOptions,
  CachePolicy,
  Function as CloudFrontFunction,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from "aws-cdk-lib/aws-cloudfront";
import { HttpOrigin, S3BucketOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { BucketDeployment, Source } from "aws-cdk-lib/aws-s3-deployment";
import { Construct } from "constructs";
import { acknowledge, nagString } from "../nag.ts";

export interface DashboardProps {
  /** The built dashboard (absolute path). */
  distDir: string;
  /** Host of the HTTP API's endpoint, served on the same origin under /api/* and /hooks/*. */
  apiHost: string;
  /** The data bucket, named in the CSP for the presigned redirects of large run files. */
  dataBucket: IBucket;
  logRetention: RetentionDays;
}

/**
 * Sends every path that is not a file of the dashboard (no extension in its last segment) to index.html, so that a
 * deep link loads the single-page app. A function on the default behaviour rather than the distribution's error
 * responses: those apply to every behaviour and would turn the API's own 403 and 404 answers into index.html.
 */
const SPA_REWRITE = `function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf("/") + 1);
  if (last.indexOf(".") === -1) request.uri = "/index.html";
  return request;
}`;

/** The dashboard: its build in a private bucket behind CloudFront, with the API on the same origin. */
export class Dashboard extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bucket = new Bucket(this, "DashboardBucket", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // Build output only, re-deployed with every stack update; the deployment below empties it on deletion.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(this.bucket, {
      "AwsSolutions-S1":
        "The bucket holds only the dashboard's build output, written by the stack's deployment and read by " +
        "CloudFront through origin access control; it holds no data, and its readers are the distribution's viewers.",
    });

    // The dashboard runs scripts and styles from its own origin only and talks to the API on that origin; the data
    // bucket is named for the presigned redirects of large run files.
    const csp = [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      `connect-src 'self' https://${props.dataBucket.bucketName}.s3.${stack.region}.${stack.urlSuffix}`,
      "manifest-src 'self'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; ");
    const securityHeaders = new ResponseHeadersPolicy(this, "SecurityHeaders", {
      comment: "Stepwise: security headers of the dashboard and the API",
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
      },
    });
    const spaRewrite = new CloudFrontFunction(this, "DashboardRewrite", {
      comment: "Stepwise: deep links of the dashboard load index.html",
      code: FunctionCode.fromInline(SPA_REWRITE),
      runtime: FunctionRuntime.JS_2_0,
    });
    // The HTTP API's own endpoint: no custom domain, so the Host header must be the API's (not forwarded).
    const apiBehavior: BehaviorOptions = {
      origin: new HttpOrigin(props.apiHost, {
        protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [OriginSslPolicy.TLS_V1_2],
      }),
      // Clients of the API must not be redirected (a redirected POST loses its body): plain HTTP is refused.
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      // Nothing is cached: answers depend on the caller's key; with caching disabled, the all-viewer policy also
      // forwards the Authorization header.
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: securityHeaders,
      compress: true,
    };
    this.distribution = new Distribution(this, "Dashboard", {
      comment: "Stepwise: dashboard and API",
      defaultRootObject: "index.html",
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        functionAssociations: [{ function: spaRewrite, eventType: FunctionEventType.VIEWER_REQUEST }],
        compress: true,
      },
      additionalBehaviors: { "/api/*": apiBehavior, "/hooks/*": apiBehavior },
    });
    acknowledge(this.distribution, {
      "AwsSolutions-CFR1":
        "Stepwise serves its users wherever they are; an organisation that must restrict countries can add a geo " +
        "restriction to the distribution for its deployment.",
      "AwsSolutions-CFR2":
        "No web ACL is attached by default: WAF is billed per ACL and rule, and the API already authenticates every " +
        "request (API keys, webhook HMAC signatures) behind the stage's throttle; attach an ACL per deployment.",
      "AwsSolutions-CFR3":
        "Every request that reaches the service (/api/*, /hooks/*) is logged by the HTTP API stage's access log; the " +
        "remaining requests fetch the dashboard's static files, which would need a further, ACL-enabled log bucket.",
      "AwsSolutions-CFR4":
        "The distribution uses the default *.cloudfront.net certificate, whose TLS policy CloudFront fixes (TLSv1 " +
        "minimum); a custom domain with its ACM certificate is needed to require TLS 1.2 for viewers.",
    });

    new BucketDeployment(this, "DashboardDeployment", {
      sources: [Source.asset(props.distDir)],
      destinationBucket: this.bucket,
      // Files of earlier builds go; the edge caches are flushed so that the new index.html is served at once.
      prune: true,
      retainOnDelete: false,
      distribution: this.distribution,
      distributionPaths: ["/*"],
      logGroup: new LogGroup(this, "DashboardDeploymentLogs", {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    this.acknowledgeDeploymentHandler();
  }

  /**
   * The deployment's handler is CDK's singleton function at the stack's root, with the grants CDK gives it: read the
   * staged asset, write this bucket, invalidate the distribution.
   */
  private acknowledgeDeploymentHandler(): void {
    const stack = Stack.of(this);
    const deploymentHandler = stack.node.children.find((c) => c.node.id.startsWith("Custom::CDKBucketDeployment"));
    if (!deploymentHandler) throw new Error("the dashboard deployment's handler function was not found");
    const qualifier =
      this.node.tryGetContext("@aws-cdk/core:bootstrapQualifier") ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation placeholder, not a JS template.
    const assetBucket = DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace("${Qualifier}", qualifier);
    const cdkGrants = "CDK gives the BucketDeployment handler grantRead/grantReadWrite, whose action globs cover ";
    acknowledge(deploymentHandler, {
      "AwsSolutions-L1":
        "The dashboard deployment's handler is CDK's BucketDeployment function; aws-cdk-lib chooses its runtime and " +
        "moves it with new releases. It runs only while the stack deploys.",
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]":
        "CDK's BucketDeployment handler role carries the basic execution policy, which writes its own logs only.",
      "AwsSolutions-IAM5[Action::s3:GetObject*]": `${cdkGrants}reading the staged dashboard build.`,
      "AwsSolutions-IAM5[Action::s3:GetBucket*]": `${cdkGrants}reading the staged build and the dashboard bucket.`,
      "AwsSolutions-IAM5[Action::s3:List*]": `${cdkGrants}listing the staged build and the dashboard bucket (prune).`,
      "AwsSolutions-IAM5[Action::s3:DeleteObject*]": `${cdkGrants}removing files of earlier builds (prune).`,
      "AwsSolutions-IAM5[Action::s3:Abort*]": `${cdkGrants}aborting its own multipart uploads to the dashboard bucket.`,
      [`AwsSolutions-IAM5[Resource::${nagString(this, `${this.bucket.bucketArn}/*`)}]`]:
        "The handler replaces the whole dashboard build, whose file names carry content hashes; this bucket only.",
      [`AwsSolutions-IAM5[Resource::${nagString(this, `arn:${stack.partition}:s3:::${assetBucket}/*`)}]`]:
        "The staged build is an object of the CDK bootstrap asset bucket, named by its hash at synthesis.",
      "AwsSolutions-IAM5[Resource::*]":
        "CDK grants the handler cloudfront:CreateInvalidation and GetInvalidation on *; its only input names this " +
        "distribution, whose cache it flushes after each deployment.",
    });
  }
}
