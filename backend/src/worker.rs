//! `backend consume`: the SQS worker that the seeds scale on queue depth.
//!
//! Long-polls the queue, burns the configured CPU per message, deletes what
//! it processed and leaves what failed for the queue's redrive policy (it
//! reappears after the visibility timeout and, after `maxReceiveCount`
//! tries, moves to the dead-letter queue). A message whose JSON body has
//! `"fail": true` fails on purpose, to exercise that path. On SIGTERM the
//! worker finishes the batch in hand, deletes it, and stops.

use std::time::Duration;

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message};
use tokio_util::sync::CancellationToken;

use crate::config::ConsumeConfig;
use crate::sqs::Queue;
use crate::stress::burn_cpu;

/// What a worker run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ConsumeStats {
    pub received: u64,
    pub processed: u64,
    pub failed: u64,
}

/// How long to wait before receiving again after an SQS error.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Runs until `stop` is cancelled (or `max_messages` were processed).
pub async fn consume(
    queue: &Queue,
    config: &ConsumeConfig,
    stop: CancellationToken,
) -> ConsumeStats {
    let mut stats = ConsumeStats::default();
    tracing::info!(queue = %queue.url, work_ms = config.work_ms, "worker started");
    while !stop.is_cancelled() {
        tracing::debug!(wait_seconds = config.wait_seconds, "receiving");
        let receive = queue
            .client
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(config.batch_size)
            .wait_time_seconds(config.wait_seconds)
            .send();
        // A receive cancelled by SIGTERM loses nothing: messages it might have
        // taken stay invisible for the visibility timeout, then come back.
        let out = tokio::select! {
            () = stop.cancelled() => break,
            out = receive => out,
        };
        let messages = match out {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %DisplayErrorContext(&e), "receive failed; retrying");
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(ERROR_BACKOFF) => continue,
                }
            }
        };
        stats.received += messages.len() as u64;
        let done = process_batch(&messages, config.work_ms).await;
        stats.failed += (messages.len() - done.len()) as u64;
        stats.processed += delete_batch(queue, &done).await;
        if config.max_messages > 0 && stats.processed >= config.max_messages {
            break;
        }
    }
    tracing::info!(
        received = stats.received,
        processed = stats.processed,
        failed = stats.failed,
        "worker stopped"
    );
    stats
}

/// Works through a batch; returns the messages that succeeded.
async fn process_batch(messages: &[Message], work_ms: u64) -> Vec<&Message> {
    let mut done = Vec::with_capacity(messages.len());
    for m in messages {
        let id = m.message_id().unwrap_or_default();
        if wants_failure(m.body().unwrap_or_default()) {
            tracing::warn!(
                message_id = id,
                "message asked to fail; leaving it for redrive"
            );
            continue;
        }
        let work = Duration::from_millis(work_ms);
        if let Err(e) = tokio::task::spawn_blocking(move || burn_cpu(work, || false)).await {
            tracing::warn!(message_id = id, error = %e, "work failed; leaving it for redrive");
            continue;
        }
        tracing::info!(message_id = id, work_ms, "message processed");
        done.push(m);
    }
    done
}

fn wants_failure(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("fail").and_then(serde_json::Value::as_bool))
        .unwrap_or(false)
}

/// Deletes processed messages; returns how many SQS confirmed.
async fn delete_batch(queue: &Queue, done: &[&Message]) -> u64 {
    if done.is_empty() {
        return 0;
    }
    let entries: Vec<_> = done
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle()?)
                .build()
                .ok()
        })
        .collect();
    match queue
        .client
        .delete_message_batch()
        .queue_url(&queue.url)
        .set_entries(Some(entries))
        .send()
        .await
    {
        Ok(out) => {
            for f in out.failed() {
                tracing::warn!(
                    id = f.id(),
                    code = f.code(),
                    "delete failed; the message will be redelivered"
                );
            }
            out.successful().len() as u64
        }
        Err(e) => {
            tracing::warn!(error = %DisplayErrorContext(&e), "delete batch failed; messages will be redelivered");
            0
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_fail_true_fails() {
        assert!(super::wants_failure(r#"{"fail": true}"#));
        assert!(!super::wants_failure(r#"{"fail": false}"#));
        assert!(!super::wants_failure("not json"));
        assert!(!super::wants_failure(r#"{"order": 1}"#));
    }
}
