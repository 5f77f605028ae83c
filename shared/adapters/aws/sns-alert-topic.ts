/** Publishes alerts to the SNS alert topic (people subscribe by email; alarms share the topic). */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertPublisher } from '../../ports/alerts.js';

export function snsAlertPublisher(client: SNSClient, topicArn: string): AlertPublisher {
  return async (alert) => {
    await client.send(
      new PublishCommand({ TopicArn: topicArn, Subject: alert.subject, Message: alert.message }),
    );
  };
}
