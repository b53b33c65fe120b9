"""The AWS/SQS metrics CloudWatch publishes for every queue, which moto never does: sampled from
GetQueueAttributes once a scaled minute (before each alarm evaluation) and put to moto's CloudWatch, so
the dead-letter-queue alarms fire locally. ApproximateAgeOfOldestMessage has no attribute to sample from
(moto keeps no such figure), so an alarm on it stays not evaluated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# CloudWatch's metric name -> the queue attribute it reports
QUEUE_METRICS = {
    "ApproximateNumberOfMessagesVisible": "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible": "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed": "ApproximateNumberOfMessagesDelayed",
}


def queue_names(queues: dict[str, str]) -> dict[str, str]:
    """`!GetAtt <LogicalId>.QueueName` for every queue the stack created (logical id -> URL)."""
    return {f"{logical_id}.QueueName": url.rsplit("/", 1)[-1] for logical_id, url in queues.items()}


class QueueMetrics:
    def __init__(self, sqs: Any, cloudwatch: Any, queues: dict[str, str]) -> None:
        self._sqs, self._cloudwatch, self._urls = sqs, cloudwatch, list(queues.values())

    def publish(self, now: float) -> None:
        """One sample of every queue's depth, timestamped `now`."""
        moment = datetime.fromtimestamp(now, tz=UTC)
        data = []
        for url in self._urls:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=list(QUEUE_METRICS.values())
            )["Attributes"]
            dimensions = [{"Name": "QueueName", "Value": url.rsplit("/", 1)[-1]}]
            data += [
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Timestamp": moment,
                    "Value": float(attributes.get(attribute, 0)),
                    "Unit": "Count",
                }
                for metric, attribute in QUEUE_METRICS.items()
            ]
        for start in range(0, len(data), 1000):
            self._cloudwatch.put_metric_data(Namespace="AWS/SQS", MetricData=data[start : start + 1000])
