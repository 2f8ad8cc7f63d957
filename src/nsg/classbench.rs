//! ClassBench filter sets, the standard packet-classification benchmark, as NSGs, so that
//! published rule sets can be evaluated and timed.
//!
//! A filter line is `@SA/len DA/len lo : hi lo : hi proto/mask [flags/mask]`, tab or space
//! separated; the first matching line wins, as the first matching priority does in an NSG. Each
//! line becomes an inbound rule (the filter's source is the remote side) with priority
//! 100 + its position. What an NSG cannot express is reported with its line, never dropped in
//! silence: protocols other than TCP, UDP, ICMP, ESP and AH (or a partial protocol mask), TCP
//! flag matches, and rules past the 3,997 priorities NSGs have.

use serde_json::{Value, json};

/// The most rules an NSG's priorities (100–4096) can order.
pub const MAX_RULES: usize = 3997;

/// A converted filter set.
#[derive(Debug, Clone)]
pub struct Converted {
    /// `{"name", "securityRules": [...]}`, as `az network nsg show` writes an NSG.
    pub nsg: Value,
    /// Lines that could not be expressed: (1-based line, reason).
    pub skipped: Vec<(usize, String)>,
    /// Rules written.
    pub rules: usize,
}

fn prefix(t: &str) -> Result<String, String> {
    let t = t.trim_start_matches('@');
    let net = crate::text::listed_prefix(t).map_err(|e| format!("`{t}`: {e}"))?;
    Ok(net.trunc().to_string())
}

fn proto(t: &str) -> Result<&'static str, String> {
    let (v, m) = t
        .split_once('/')
        .ok_or(format!("protocol `{t}`: expected VALUE/MASK"))?;
    let num = |s: &str| {
        u32::from_str_radix(
            s.trim().trim_start_matches("0x").trim_start_matches("0X"),
            16,
        )
    };
    let (v, m) = (
        num(v).map_err(|_| format!("protocol `{t}`"))?,
        num(m).map_err(|_| format!("protocol `{t}`"))?,
    );
    if m == 0 {
        return Ok("*");
    }
    if m != 0xff {
        return Err(format!(
            "protocol mask {t} matches several protocols; NSGs name one or all"
        ));
    }
    match v {
        6 => Ok("Tcp"),
        17 => Ok("Udp"),
        1 => Ok("Icmp"),
        50 => Ok("Esp"),
        51 => Ok("Ah"),
        other => Err(format!(
            "protocol {other} (`{t}`) cannot be named in an NSG (Tcp, Udp, Icmp, Esp, Ah or *)"
        )),
    }
}

/// Converts a filter set; `access` is the action every rule gets.
pub fn convert(text: &str, name: &str, access: &str) -> Converted {
    let mut rules = Vec::new();
    let mut skipped = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let no = i + 1;
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        // Tokens: SA DA lo : hi lo : hi proto [flags]
        let tok: Vec<&str> = l.split_whitespace().collect();
        let parsed = (|| -> Result<Value, String> {
            if tok.len() < 9 || tok.len() > 10 || tok[3] != ":" || tok[6] != ":" {
                return Err(
                    "expected `@SA/len DA/len lo : hi lo : hi proto/mask [flags/mask]`".into(),
                );
            }
            if let Some(flags) = tok.get(9)
                && let Some((_, mask)) = flags.split_once('/')
                && u32::from_str_radix(mask.trim_start_matches("0x"), 16).unwrap_or(0) != 0
            {
                return Err(format!("TCP flags {flags} cannot be matched by an NSG"));
            }
            let port = |lo: &str, hi: &str| -> Result<String, String> {
                let (a, b): (u32, u32) = (
                    lo.parse().map_err(|_| format!("port `{lo}`"))?,
                    hi.parse().map_err(|_| format!("port `{hi}`"))?,
                );
                if a > b || b > 65535 {
                    return Err(format!("port range {a} : {b}"));
                }
                Ok(if a == 0 && b == 65535 {
                    "*".into()
                } else if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                })
            };
            let (sa, da) = (prefix(tok[0])?, prefix(tok[1])?);
            if sa.contains(':') != da.contains(':') {
                return Err("source and destination are of different families".into());
            }
            let protocol = proto(tok[8])?;
            let (sp, dp) = (port(tok[2], tok[4])?, port(tok[5], tok[7])?);
            if matches!(protocol, "Icmp" | "Esp" | "Ah") && (sp != "*" || dp != "*") {
                return Err(format!(
                    "{protocol} with port ranges: NSGs ignore ports for {protocol}, so the rule would match more"
                ));
            }
            Ok(json!({
                "sourceAddressPrefix": sa,
                "destinationAddressPrefix": da,
                "sourcePortRange": sp,
                "destinationPortRange": dp,
                "protocol": protocol,
            }))
        })();
        match parsed {
            Ok(mut r) if rules.len() < MAX_RULES => {
                r["name"] = json!(format!("cb{no}"));
                r["priority"] = json!(100 + rules.len());
                r["direction"] = json!("Inbound");
                r["access"] = json!(access);
                rules.push(r);
            }
            Ok(_) => skipped.push((no, format!("past the {MAX_RULES} priorities an NSG has"))),
            Err(e) => skipped.push((no, e)),
        }
    }
    let n = rules.len();
    Converted {
        nsg: json!({"name": name, "securityRules": rules}),
        skipped,
        rules: n,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_convert_or_are_reported() {
        let text = "@192.151.11.17/32\t15.0.120.4/32\t0 : 65535\t1221 : 1221\t0x06/0xFF\t0x0000/0x0000\n\
                    @0.0.0.0/0\t10.0.0.0/8\t1024 : 2048\t0 : 65535\t0x00/0x00\n\
                    @1.2.3.0/24\t4.5.6.0/24\t0 : 65535\t0 : 65535\t0x2F/0xFF\n\
                    @1.2.3.0/24\t4.5.6.0/24\t0 : 65535\t80 : 80\t0x06/0xFF\t0x1000/0x1000\n";
        let c = super::convert(text, "cb", "Allow");
        assert_eq!(c.rules, 2);
        assert_eq!(c.skipped.iter().map(|s| s.0).collect::<Vec<_>>(), [3, 4]);
        let r = &c.nsg["securityRules"];
        assert_eq!(r[0]["destinationPortRange"], "1221");
        assert_eq!(r[1]["sourcePortRange"], "1024-2048");
        assert_eq!(r[1]["protocol"], "*");
        assert_eq!(r[1]["priority"], 101);
        let back = crate::nsg::read::parse(c.nsg.to_string().as_bytes(), "cb").unwrap();
        assert_eq!(back[0].rules.len(), 2 + 6);
    }
}
