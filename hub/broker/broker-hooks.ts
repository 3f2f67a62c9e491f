// The one adapter between Aedes' callback-style hooks and our policy written as plain async functions.
import type { AedesOptions, AedesPublishPacket, AuthenticateError, AuthErrorCode, Client, PublishPacket, Subscription } from 'aedes';

/** What the policy decides for a publish it does not refuse. */
export type PublishVerdict =
  /** Acknowledge and route normally. */
  | 'allow'
  /** Acknowledge (so the agent does not resend a poison message forever) but neither store nor route it. */
  | 'drop';

export interface BrokerPolicyHooks {
  /** Resolves to accept; rejects with `AuthRefusedError` (or anything: server unavailable) to refuse. */
  authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void>;
  /** Rejecting closes the client's connection without PUBACK. */
  authorizePublish(client: Client | null, packet: PublishPacket): Promise<PublishVerdict>;
  /** Null refuses the subscription (SUBACK 0x80). */
  authorizeSubscribe(client: Client, sub: Subscription): Promise<Subscription | null>;
}

/** MQTT 3.1.1 CONNACK codes we use. */
export const CONNACK = { serverUnavailable: 3, badUsernameOrPassword: 4, notAuthorized: 5 } as const;

export class AuthRefusedError extends Error implements AuthenticateError {
  readonly code = 'E_AUTH';
  readonly returnCode: AuthErrorCode;
  constructor(returnCode: (typeof CONNACK)[keyof typeof CONNACK], message: string) {
    super(message);
    this.name = 'AuthRefusedError';
    this.returnCode = returnCode as AuthErrorCode;
  }
}

/**
 * Where a dropped publish is re-routed. Aedes sends the PUBACK once authorizePublish calls back
 * without error and then publishes the packet; re-pointing it at a `$SYS/` topic with retain off
 * keeps it out of the retained store and away from every `#` subscriber (Aedes never delivers `$`
 * topics to wildcards), and authorizeForward below refuses it to exact subscribers too.
 */
export const DROPPED_TOPIC = '$SYS/ioc-hub/dropped';

type Hooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'>>;

export function toAedesHooks(policy: BrokerPolicyHooks): Hooks {
  return {
    authenticate(client, username, password, done) {
      policy.authenticate(client, username, password).then(
        () => done(null, true),
        (err: unknown) => done(err instanceof AuthRefusedError ? err : new AuthRefusedError(CONNACK.serverUnavailable, 'server unavailable'), false),
      );
    },
    authorizePublish(client, packet, done) {
      policy.authorizePublish(client, packet).then(
        (verdict) => {
          if (verdict === 'drop') {
            packet.topic = DROPPED_TOPIC;
            packet.retain = false;
          }
          done(null);
        },
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    },
    authorizeSubscribe(client, sub, done) {
      policy.authorizeSubscribe(client, sub).then(
        (granted) => done(null, granted),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    },
    authorizeForward(_client, packet: AedesPublishPacket) {
      return packet.topic === DROPPED_TOPIC ? null : packet;
    },
  };
}
