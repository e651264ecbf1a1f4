/**
 * For receivers of Stepwise's outbound event deliveries: verify the `Stepwise-Signature` header.
 * See shared/triggers/verify-signature.ts (dependency-free; copy it into a receiver as it is).
 */
export {
  DEFAULT_TOLERANCE_SECONDS,
  EVENT_ID_HEADER,
  SIGNATURE_HEADER,
  signStepwisePayload,
  type VerifyInput,
  type VerifyResult,
  verifyStepwiseSignature,
} from "./shared/triggers/verify-signature.ts";
