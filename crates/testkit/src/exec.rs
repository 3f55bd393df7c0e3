//! The API server's side of `pods/exec` over WebSocket (subprotocol v4.channel.k8s.io): each
//! binary message is a channel byte (1 stdout, 2 stderr, 3 the final Status) and its data.
//! What a command prints is the served cluster's rule dump for the pod's node and that
//! command (`Cluster::rule_sets`, `source` = the command line).

use std::io::{self, Write};

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The 101 answer and the messages, then a close frame.
pub fn write(w: &mut impl Write, key: &str, messages: &[(u8, Vec<u8>)]) -> io::Result<()> {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{key}{GUID}").as_bytes(),
    );
    let accept = crate::apiserver::base64(digest.as_ref());
    write!(
        w,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n"
    )?;
    for (channel, data) in messages {
        // Big outputs go in several messages, as the kubelet streams them.
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![&[][..]]
        } else {
            data.chunks(32 << 10).collect()
        };
        for chunk in chunks {
            let mut payload = Vec::with_capacity(chunk.len() + 1);
            payload.push(*channel);
            payload.extend_from_slice(chunk);
            frame(w, 0x2, &payload)?;
        }
    }
    frame(w, 0x8, &1000u16.to_be_bytes())?;
    w.flush()
}

/// One unmasked frame (servers do not mask), FIN set.
fn frame(w: &mut impl Write, opcode: u8, payload: &[u8]) -> io::Result<()> {
    let mut head = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => head.push(n as u8),
        n if n <= u16::MAX as usize => {
            head.push(126);
            head.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            head.push(127);
            head.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    w.write_all(&head)?;
    w.write_all(payload)
}

/// The Status kube-apiserver sends on channel 3 when the command ends.
pub fn status(exit_code: i32, command: &str) -> Vec<u8> {
    let v = if exit_code == 0 {
        serde_json::json!({"metadata": {}, "status": "Success"})
    } else {
        serde_json::json!({
            "metadata": {}, "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command [{command}], exit code {exit_code}"),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": exit_code.to_string()}]}
        })
    };
    v.to_string().into_bytes()
}
