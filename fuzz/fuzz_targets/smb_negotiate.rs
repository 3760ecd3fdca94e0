//! SMB NEGOTIATE responses from any peer on TCP 445: the transport header reader
//! (`frame_length`) and `parse_message` (SMB2 with 3.1.1 negotiate contexts, SMB1) must never
//! panic on any bytes, and whatever they accept must fold into the evidence and go through
//! the judge, the details line and the targets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nettriage::check::smb::{
    MAX_FRAME, SmbEvidence, SmbReply, SmbServer, SmbShare, details, frame_length, judge, parse_message, targets,
};
use nettriage::config::SmbSettings;

fuzz_target!(|data: &[u8]| {
    if let Some(header) = data.get(..4).and_then(|h| <[u8; 4]>::try_from(h).ok())
        && let Ok(Some(len)) = frame_length(header)
    {
        assert!(len <= MAX_FRAME);
    }
    // The bytes as a message, and after a transport header as the reader hands it on.
    let body = data.get(4..).unwrap_or_default();
    for msg in [data, body] {
        let mut server = SmbServer { server: "fs1".into(), ..SmbServer::default() };
        match parse_message(msg) {
            Ok(SmbReply::Smb2(n)) => server.record_smb2(&n),
            Ok(SmbReply::Smb1(n)) => server.record_smb1(&n),
            Ok(SmbReply::Smb2Error { status }) => server.status = Some(format!("{status:#010x}")),
            Err(e) => server.error = Some(e.to_string()),
        }
        let ev = SmbEvidence {
            shares: vec![SmbShare { share: r"\\fs1\data".into(), server: "fs1".into() }],
            servers: vec![server],
        };
        let _ = judge(&ev, &SmbSettings::default());
        let _ = details(&ev);
        assert_eq!(targets(&ev).len(), 1);
    }
});
