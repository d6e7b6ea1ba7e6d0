//! Query-string and form decoding (application/x-www-form-urlencoded), shared by the SCIM, OAuth
//! and management API endpoints. Must not interpret the parameters it decodes.

/// Decodes `a=b&c=d` pairs: `+` is a space, `%XX` a byte; invalid UTF-8 is replaced.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex);
                let lo = bytes.get(i + 2).copied().and_then(hex);
                if let (Some(h), Some(l)) = (hi, lo) {
                    out.push(h * 16 + l);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        let cases = [
            (
                "filter=userName%20eq%20%22a%22",
                vec![("filter", "userName eq \"a\"")],
            ),
            ("a=b+c&d", vec![("a", "b c"), ("d", "")]),
            ("x=%zz%4", vec![("x", "%zz%4")]),
            ("x=%E2%9C%93", vec![("x", "\u{2713}")]),
            ("", vec![]),
        ];
        for (q, want) in cases {
            let got = parse_query(q);
            let want: Vec<(String, String)> = want
                .into_iter()
                .map(|(a, b)| (a.into(), b.into()))
                .collect();
            assert_eq!(got, want, "{q}");
        }
    }
}
