//! The layouts of the leader-side repair messages (protocol-aware recovery): not in NRG, each
//! with an envelope tag of its own, so the NRG layouts stay untouched.

use super::nrg::{decode_append_entries, write_append_entries};
use super::wire::{check_exact_len, Reader, Writer};
use super::{DecodeError, EncodeError};
use crate::message::{AppendEntries, RepairOffer, RepairRequest, RepairResponse};

/// Exact length of an encoded [`RepairRequest`].
pub const REPAIR_REQUEST_LEN: usize = 8 + 8 + 8 + 8 + 1;
/// Length of an encoded [`RepairResponse`] before what its offer carries.
pub const REPAIR_RESPONSE_FIXED_LEN: usize = 7 * 8 + 1;

const OFFER_POSITIONS: u8 = 0;
const OFFER_ENTRIES: u8 = 1;
const OFFER_MISMATCH: u8 = 2;

pub(super) fn write_repair_request(w: &mut Writer<'_>, m: &RepairRequest) {
    w.reserve(REPAIR_REQUEST_LEN)
        .u64(m.term)
        .node(m.leader)
        .u64(m.after_index)
        .u64(m.after_term)
        .bool(m.fetch);
}

/// Encodes the 33-byte [`RepairRequest`]: `term u64 · leader [8] · afterIndex u64 ·
/// afterTerm u64 · fetch u8`.
pub fn encode_repair_request(m: &RepairRequest) -> Vec<u8> {
    let mut out = Vec::new();
    write_repair_request(&mut Writer::new(&mut out), m);
    out
}

/// Decodes the 33-byte [`RepairRequest`].
pub fn decode_repair_request(buf: &[u8]) -> Result<RepairRequest, DecodeError> {
    const WHAT: &str = "repair request";
    check_exact_len(WHAT, buf, REPAIR_REQUEST_LEN)?;
    let mut r = Reader::new(buf, WHAT);
    Ok(RepairRequest {
        term: r.u64()?,
        leader: r.node()?,
        after_index: r.u64()?,
        after_term: r.u64()?,
        fetch: r.bool("repair request fetch")?,
    })
}

/// The entries of an offer travel as an NRG append entry body (`leader` = the peer, `term` =
/// the entries' term, `pindex` = `after_index`), so they share its checks and limits.
fn offer_as_append(m: &RepairResponse, entries: &[crate::types::Entry]) -> AppendEntries {
    AppendEntries {
        leader: m.peer,
        term: entries.first().map_or(0, |e| e.term),
        commit: 0,
        prev_term: 0,
        prev_index: m.after_index,
        entries: entries.to_vec(),
        read_seq: 0,
    }
}

pub(super) fn write_repair_response(
    w: &mut Writer<'_>,
    m: &RepairResponse,
) -> Result<(), EncodeError> {
    let append = match &m.offer {
        RepairOffer::Entries(entries) => Some(offer_as_append(m, entries)),
        _ => None,
    };
    if let Some(append) = &append {
        // Checked first, so on error nothing is written.
        if append.entries.is_empty() {
            return Err(EncodeError::EmptyRepairOffer);
        }
        super::nrg::append_entries_wire_terms(append)?;
    }
    w.reserve(REPAIR_RESPONSE_FIXED_LEN + 8)
        .u64(m.term)
        .node(m.peer)
        .u64(m.held.0)
        .u64(m.held.1)
        .u64(m.log.0)
        .u64(m.log.1)
        .u64(m.after_index);
    match &m.offer {
        RepairOffer::Positions => {
            w.u8(OFFER_POSITIONS);
        }
        RepairOffer::Entries(_) => {
            w.u8(OFFER_ENTRIES);
            write_append_entries(w, append.as_ref().expect("built above"))?;
        }
        RepairOffer::Mismatch { hint } => {
            w.u8(OFFER_MISMATCH).u64(*hint);
        }
    }
    Ok(())
}

/// Encodes a [`RepairResponse`]: `term u64 · peer [8] · heldTerm u64 · heldIndex u64 ·
/// logTerm u64 · logIndex u64 · afterIndex u64 · offer u8`, then for offer 1 (entries) an NRG
/// append entry body holding them, for offer 2 (mismatch) `hint u64`; offer 0 (positions)
/// ends there. Fails when the entries could not travel in an append entry (mixed terms,
/// indexes not following `after_index`, none at all).
pub fn encode_repair_response(m: &RepairResponse) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write_repair_response(&mut Writer::new(&mut out), m)?;
    Ok(out)
}

/// Decodes a [`RepairResponse`].
pub fn decode_repair_response(buf: &[u8]) -> Result<RepairResponse, DecodeError> {
    const WHAT: &str = "repair response";
    let mut r = Reader::new(buf, WHAT);
    let term = r.u64()?;
    let peer = r.node()?;
    let held = (r.u64()?, r.u64()?);
    let log = (r.u64()?, r.u64()?);
    let after_index = r.u64()?;
    let offer_at = r.pos;
    let offer = match r.u8()? {
        OFFER_POSITIONS => {
            r.finish()?;
            RepairOffer::Positions
        }
        OFFER_MISMATCH => {
            let hint = r.u64()?;
            r.finish()?;
            RepairOffer::Mismatch { hint }
        }
        OFFER_ENTRIES => {
            let body_at = r.pos;
            let append = decode_append_entries(r.take(r.remaining())?)?;
            if append.entries.is_empty()
                || append.prev_index != after_index
                || append.leader != peer
                || append.commit != 0
                || append.prev_term != 0
                || append.read_seq != 0
            {
                return Err(DecodeError::BadValue {
                    what: WHAT,
                    offset: body_at,
                    reason: "an entries offer needs entries after afterIndex, from the peer, \
                             with commit, pterm and read_seq 0",
                });
            }
            RepairOffer::Entries(append.entries)
        }
        value => {
            return Err(DecodeError::BadFlag {
                what: "repair response offer",
                offset: offer_at,
                value,
            })
        }
    };
    Ok(RepairResponse {
        term,
        peer,
        held,
        log,
        after_index,
        offer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use crate::types::{Entry, NodeId};

    fn le8(v: u64) -> [u8; 8] {
        v.to_le_bytes()
    }

    #[test]
    fn repair_request_golden() {
        let m = RepairRequest {
            term: 5,
            leader: NodeId(2),
            after_index: 9,
            after_term: 4,
            fetch: true,
        };
        let bytes = encode_repair_request(&m);
        let golden = [&le8(5)[..], &le8(2), &le8(9), &le8(4), &[1]].concat();
        assert_eq!(bytes, golden);
        assert_eq!(decode_repair_request(&bytes).unwrap(), m);
        let envelope = crate::codec::encode_envelope(&Message::RepairRequest(m.clone())).unwrap();
        assert_eq!(envelope[0], 16);
        let mut bad = golden.clone();
        bad[32] = 2;
        assert!(matches!(
            decode_repair_request(&bad),
            Err(DecodeError::BadFlag { offset: 32, .. })
        ));
    }

    fn response(offer: RepairOffer) -> RepairResponse {
        RepairResponse {
            term: 5,
            peer: NodeId(3),
            held: (2, 4),
            log: (1, 2),
            after_index: 2,
            offer,
        }
    }

    #[test]
    fn repair_response_golden() {
        let fixed = [
            &le8(5)[..],
            &le8(3),
            &le8(2),
            &le8(4),
            &le8(1),
            &le8(2),
            &le8(2),
        ]
        .concat();
        let positions = response(RepairOffer::Positions);
        let bytes = encode_repair_response(&positions).unwrap();
        assert_eq!(bytes, [&fixed[..], &[0]].concat());
        assert_eq!(decode_repair_response(&bytes).unwrap(), positions);

        let mismatch = response(RepairOffer::Mismatch { hint: 1 });
        let bytes = encode_repair_response(&mismatch).unwrap();
        assert_eq!(bytes, [&fixed[..], &[2], &le8(1)].concat());
        assert_eq!(decode_repair_response(&bytes).unwrap(), mismatch);

        let entries = vec![Entry::normal(2, 3, "a"), Entry::normal(2, 4, "b")];
        let offer = response(RepairOffer::Entries(entries.clone()));
        let bytes = encode_repair_response(&offer).unwrap();
        let append = crate::codec::encode_append_entries(&AppendEntries {
            leader: NodeId(3),
            term: 2,
            commit: 0,
            prev_term: 0,
            prev_index: 2,
            entries,
            read_seq: 0,
        })
        .unwrap();
        assert_eq!(bytes, [&fixed[..], &[1], &append[..]].concat());
        assert_eq!(decode_repair_response(&bytes).unwrap(), offer.clone());
        let envelope =
            crate::codec::encode_envelope(&Message::RepairResponse(Box::new(offer))).unwrap();
        assert_eq!(envelope[0], 17);
    }

    #[test]
    fn repair_response_refuses_what_it_cannot_carry() {
        assert_eq!(
            encode_repair_response(&response(RepairOffer::Entries(Vec::new()))),
            Err(EncodeError::EmptyRepairOffer)
        );
        let mixed = vec![Entry::normal(2, 3, "a"), Entry::normal(3, 4, "b")];
        assert!(matches!(
            encode_repair_response(&response(RepairOffer::Entries(mixed))),
            Err(EncodeError::MixedTerms { .. })
        ));
        // Entries that do not follow `after_index`.
        let elsewhere = vec![Entry::normal(2, 7, "a")];
        assert!(matches!(
            encode_repair_response(&response(RepairOffer::Entries(elsewhere))),
            Err(EncodeError::NonConsecutiveIndex { .. })
        ));
        let mut bytes = encode_repair_response(&response(RepairOffer::Positions)).unwrap();
        bytes[56] = 9;
        assert!(matches!(
            decode_repair_response(&bytes),
            Err(DecodeError::BadFlag {
                offset: 56,
                value: 9,
                ..
            })
        ));
        // An entries offer whose append body starts elsewhere than `after_index`.
        let offer = response(RepairOffer::Entries(vec![Entry::normal(2, 3, "a")]));
        let mut bytes = encode_repair_response(&offer).unwrap();
        bytes[48] = 7; // after_index 7, the body still says 2
        assert!(matches!(
            decode_repair_response(&bytes),
            Err(DecodeError::BadValue { .. })
        ));
    }
}
