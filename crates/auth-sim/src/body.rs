//! The response body: whole, padded to a size (oversized fault), or cut short (close
//! mid-answer fault).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// How long a cut-short answer waits after its partial chunk before failing, so that the
/// chunk reaches the socket before the connection is closed.
const CUT_PAUSE: Duration = Duration::from_millis(30);

const PAD_CHUNK: usize = 64 * 1024;
static PAD: [u8; PAD_CHUNK] = [b' '; PAD_CHUNK];

/// The error that makes hyper close the connection in the middle of an answer.
#[derive(Debug, thiserror::Error)]
#[error("the simulator closed the connection mid-answer (fault injection)")]
pub(crate) struct CutShort;

pub(crate) struct SimBody {
    kind: Kind,
}

enum Kind {
    Whole(Option<Bytes>),
    Padded {
        head: Option<Bytes>,
        pad_left: u64,
        tail: Option<Bytes>,
        total: u64,
    },
    Cut {
        part: Option<Bytes>,
        declared: u64,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

impl SimBody {
    pub(crate) fn whole(bytes: impl Into<Bytes>) -> SimBody {
        SimBody {
            kind: Kind::Whole(Some(bytes.into())),
        }
    }

    /// `json` (an object) with a `"padding"` field added so the body is `total` bytes long;
    /// `json` unchanged when it is already that long or longer.
    pub(crate) fn padded(json: Vec<u8>, total: u64) -> SimBody {
        // `{…}` becomes `{…,"padding":"␠␠␠"}`.
        let frame = br#","padding":""}"#.len() as u64;
        let len = json.len() as u64;
        let is_object = json.last() == Some(&b'}') && json.len() >= 2;
        if !is_object || total < len + frame {
            return SimBody::whole(json);
        }
        let mut head = json;
        head.pop();
        let empty_object = head.len() == 1;
        let mut prefix = if empty_object { Vec::new() } else { b",".to_vec() };
        prefix.extend_from_slice(br#""padding":""#);
        head.extend_from_slice(&prefix);
        let head_len = head.len() as u64;
        let tail = Bytes::from_static(b"\"}");
        let pad_left = total.saturating_sub(head_len + tail.len() as u64);
        SimBody {
            kind: Kind::Padded {
                head: Some(Bytes::from(head)),
                pad_left,
                tail: Some(tail),
                total,
            },
        }
    }

    /// Declares `bytes.len()` but sends only the first half, then fails (hyper then closes).
    pub(crate) fn cut_short(bytes: Vec<u8>) -> SimBody {
        let declared = bytes.len() as u64;
        let half = bytes.len() / 2;
        let part = Bytes::from(bytes).slice(..half);
        SimBody {
            kind: Kind::Cut {
                part: Some(part),
                declared,
                pause: None,
            },
        }
    }

    /// The body's length as declared in `content-length`.
    pub(crate) fn declared_len(&self) -> u64 {
        match &self.kind {
            Kind::Whole(bytes) => bytes.as_ref().map_or(0, |b| b.len() as u64),
            Kind::Padded { total, .. } => *total,
            Kind::Cut { declared, .. } => *declared,
        }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = CutShort;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, CutShort>>> {
        match &mut self.kind {
            Kind::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Padded {
                head, pad_left, tail, ..
            } => {
                if let Some(head) = head.take() {
                    return Poll::Ready(Some(Ok(Frame::data(head))));
                }
                if *pad_left > 0 {
                    let n = usize::try_from(*pad_left).unwrap_or(PAD_CHUNK).min(PAD_CHUNK);
                    *pad_left -= n as u64;
                    let chunk = PAD.get(..n).unwrap_or(&[]);
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(chunk)))));
                }
                Poll::Ready(tail.take().map(|t| Ok(Frame::data(t))))
            }
            Kind::Cut { part, pause, .. } => {
                if let Some(part) = part.take() {
                    return Poll::Ready(Some(Ok(Frame::data(part))));
                }
                let sleep = pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(CUT_PAUSE)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(CutShort))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Whole(bytes) => bytes.is_none(),
            Kind::Padded { tail, .. } => tail.is_none(),
            Kind::Cut { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.declared_len())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn padding_reaches_the_exact_size_and_stays_json() {
        for total in [0u64, 10, 60, 61, 1000, 200_000] {
            let json = br#"{"object":"AccountCreated","account_id":"x"}"#.to_vec();
            let body = SimBody::padded(json.clone(), total);
            let declared = body.declared_len();
            let bytes = body.collect().await.unwrap().to_bytes();
            assert_eq!(bytes.len() as u64, declared);
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(value["object"], "AccountCreated");
            if total as usize > json.len() + 15 {
                assert_eq!(bytes.len() as u64, total);
            }
        }
    }

    #[tokio::test]
    async fn a_cut_body_yields_half_then_fails() {
        let mut body = SimBody::cut_short(b"0123456789".to_vec());
        assert_eq!(body.declared_len(), 10);
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&first[..], b"01234");
        assert!(body.frame().await.unwrap().is_err());
    }
}
