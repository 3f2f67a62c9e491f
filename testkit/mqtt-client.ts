// A raw mqtt.js client for tests that act as an agent (or a hostile one) without the edge code.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export async function connectAs(url: string, username: string, password: string, extra: Partial<IClientOptions> = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    username,
    password,
    clientId: username,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...extra,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => reject(err));
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  return client;
}

/** Publishes QoS 1; resolves 'acked' on PUBACK, 'closed' when the broker closes the connection first. */
export async function publishQos1(client: MqttClient, topic: string, payload: string | Buffer, timeoutMs = 10_000): Promise<'acked' | 'closed' | 'timeout'> {
  return await new Promise((resolve) => {
    let done = false;
    const finish = (r: 'acked' | 'closed' | 'timeout'): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.removeListener('close', onClose);
      resolve(r);
    };
    const onClose = (): void => finish('closed');
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    client.once('close', onClose);
    client.publish(topic, payload, { qos: 1 }, (err) => finish(err === undefined || err === null ? 'acked' : 'closed'));
  });
}

export async function endClient(client: MqttClient): Promise<void> {
  await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
}
