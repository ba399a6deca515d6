//! The wire: length-delimited frames (a 4-byte big-endian length, `tokio-util`'s
//! `LengthDelimitedCodec`), each holding one message in raft-core's envelope encoding
//! (`codec::encode_envelope`: a tag byte and the NRG layout). The first frame of a connection
//! is a hello naming the sender.
//!
//! Every decoding path returns a [`FrameError`] for bad input; none panics. A connection
//! that sends one bad frame is closed (the sender's state is unknown after it).

use bytes::Bytes;
use raft_core::codec::{self, DecodeError, EncodeError};
use raft_core::{Message, NodeId};
use std::fmt;
use std::io;
use tokio_util::codec::LengthDelimitedCodec;

/// The largest frame accepted: a full AppendEntries of large entries or a snapshot chunk is
/// far below it; anything larger is a broken or hostile peer.
pub const MAX_FRAME_LEN: usize = 16 << 20;

/// The hello frame: these 8 bytes, then the sender's id (u64, little-endian as in NRG).
pub const HELLO_MAGIC: &[u8; 8] = b"raft-kv1";
pub const HELLO_LEN: usize = 16;

/// The codec of the raft port, for both directions.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME_LEN)
        .new_codec()
}

/// Why a frame was not accepted.
#[derive(Debug)]
pub enum FrameError {
    /// Reading or writing the socket failed, or a frame announced more than
    /// [`MAX_FRAME_LEN`] bytes (the codec reports that as an I/O error).
    Io(io::Error),
    /// The first frame is not a hello.
    BadHello { len: usize, reason: &'static str },
    /// A frame does not hold a message raft-core can decode.
    Decode(DecodeError),
    /// A message raft-core's encoder refuses (a broken node contract, not bad input).
    Encode(EncodeError),
    /// The connection ended before the hello.
    ClosedBeforeHello,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Io(e) => write!(f, "frame i/o: {e}"),
            FrameError::BadHello { len, reason } => {
                write!(f, "first frame ({len} bytes) is not a hello: {reason}")
            }
            FrameError::Decode(e) => write!(f, "frame does not decode: {e}"),
            FrameError::Encode(e) => write!(f, "message does not encode: {e}"),
            FrameError::ClosedBeforeHello => write!(f, "connection closed before the hello"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<io::Error> for FrameError {
    fn from(e: io::Error) -> FrameError {
        FrameError::Io(e)
    }
}

pub fn encode_hello(from: NodeId) -> Bytes {
    let mut out = Vec::with_capacity(HELLO_LEN);
    out.extend_from_slice(HELLO_MAGIC);
    out.extend_from_slice(&from.to_bytes());
    out.into()
}

pub fn decode_hello(frame: &[u8]) -> Result<NodeId, FrameError> {
    if frame.len() != HELLO_LEN {
        return Err(FrameError::BadHello {
            len: frame.len(),
            reason: "wrong length (expected 16 bytes)",
        });
    }
    let (magic, id) = frame.split_at(HELLO_MAGIC.len());
    if magic != HELLO_MAGIC {
        return Err(FrameError::BadHello {
            len: frame.len(),
            reason: "wrong magic (expected \"raft-kv1\")",
        });
    }
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(id);
    Ok(NodeId::from_bytes(bytes))
}

pub fn encode_message(message: &Message) -> Result<Bytes, FrameError> {
    codec::encode_envelope(message)
        .map(Bytes::from)
        .map_err(FrameError::Encode)
}

pub fn decode_message(frame: &[u8]) -> Result<Message, FrameError> {
    codec::decode_envelope(frame).map_err(FrameError::Decode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{BufMut, BytesMut};
    use proptest::prelude::*;
    use raft_core::{AppendEntries, Entry, VoteRequest};
    use tokio_util::codec::{Decoder, Encoder};

    fn messages() -> Vec<Message> {
        vec![
            Message::VoteRequest(VoteRequest {
                term: 4,
                last_term: 3,
                last_index: 17,
                candidate: NodeId(2),
            }),
            Message::AppendEntries(AppendEntries {
                leader: NodeId(1),
                term: 5,
                commit: 9,
                prev_term: 4,
                prev_index: 10,
                entries: vec![
                    Entry::normal(5, 11, &b"1 1 put k v"[..]),
                    Entry::normal(5, 12, &b"1 2 get k"[..]),
                ],
                read_seq: 3,
            }),
        ]
    }

    /// Every frame of `stream`, decoded as the receiving connection does: the hello, then
    /// messages, stopping at the first error.
    fn read_all(stream: &[u8]) -> (Vec<Message>, Option<FrameError>) {
        let mut codec = codec();
        let mut buf = BytesMut::from(stream);
        let mut hello = None;
        let mut out = Vec::new();
        loop {
            let frame = match codec.decode(&mut buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(FrameError::Io(e))),
            };
            if hello.is_none() {
                match decode_hello(&frame) {
                    Ok(id) => hello = Some(id),
                    Err(e) => return (out, Some(e)),
                }
                continue;
            }
            match decode_message(&frame) {
                Ok(m) => out.push(m),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    fn write_all(from: NodeId, messages: &[Message]) -> Vec<u8> {
        let mut codec = codec();
        let mut buf = BytesMut::new();
        codec.encode(encode_hello(from), &mut buf).unwrap();
        for m in messages {
            codec.encode(encode_message(m).unwrap(), &mut buf).unwrap();
        }
        buf.to_vec()
    }

    #[test]
    fn messages_round_trip_through_frames() {
        let stream = write_all(NodeId(3), &messages());
        let (got, error) = read_all(&stream);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(got, messages());
        assert_eq!(decode_hello(&encode_hello(NodeId(3))).unwrap(), NodeId(3));
    }

    #[test]
    fn a_bad_hello_is_refused_with_its_reason() {
        let err = decode_hello(b"raft-kv2\x01\0\0\0\0\0\0\0").unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
        let err = decode_hello(b"short").unwrap_err();
        assert!(err.to_string().contains("length"), "{err}");
    }

    #[test]
    fn an_oversized_length_is_an_error_not_an_allocation() {
        let mut buf = BytesMut::new();
        buf.put_u32(u32::MAX);
        buf.put_slice(b"xx");
        let err = codec().decode(&mut buf).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }

    #[test]
    fn an_unknown_tag_and_a_truncated_message_are_named() {
        let mut stream = write_all(NodeId(1), &[]);
        let mut codec = codec();
        let mut buf = BytesMut::new();
        codec
            .encode(Bytes::from_static(&[99, 1, 2]), &mut buf)
            .unwrap();
        stream.extend_from_slice(&buf);
        match read_all(&stream).1 {
            Some(FrameError::Decode(DecodeError::UnknownTag { tag: 99 })) => {}
            other => panic!("{other:?}"),
        }
        let mut body = encode_message(&messages()[0]).unwrap().to_vec();
        body.pop();
        let mut buf = BytesMut::new();
        codec.encode(Bytes::from(body), &mut buf).unwrap();
        let mut stream = write_all(NodeId(1), &[]);
        stream.extend_from_slice(&buf);
        let err = read_all(&stream)
            .1
            .expect("a truncated vote request is refused");
        assert!(err.to_string().contains("vote request"), "{err}");
    }

    proptest! {
        /// Arbitrary bytes on the raft port never panic the reader.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = read_all(&bytes);
        }

        /// A valid stream with a byte flipped or cut short never panics, and every message
        /// whose frame lies wholly before the damage decodes as it was sent.
        #[test]
        fn damaged_streams_never_panic(at in 0usize..400, flip in 1u8..=255, cut in any::<bool>()) {
            let sent = messages();
            let mut stream = write_all(NodeId(7), &sent);
            let at = at % stream.len();
            if cut {
                stream.truncate(at);
            } else {
                stream[at] ^= flip;
            }
            let (got, _) = read_all(&stream);
            let mut end = 4 + HELLO_LEN;
            for (i, message) in sent.iter().enumerate() {
                end += 4 + encode_message(message).unwrap().len();
                if end <= at {
                    prop_assert_eq!(got.get(i), Some(message));
                }
            }
        }
    }
}
