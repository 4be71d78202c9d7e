//! Byte counts for people (`16 MiB`) and from people (`4Gi`, `512MiB`, `1000000`).

/// `bytes` in the largest binary unit that divides it, else with one decimal: "16 MiB",
/// "1.5 GiB", "512 bytes".
pub fn human(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if bytes >= size {
            return if bytes.is_multiple_of(size) {
                format!("{} {unit}", bytes / size)
            } else {
                format!("{:.1} {unit}", bytes as f64 / size as f64)
            };
        }
    }
    if bytes == 1 {
        "1 byte".to_string()
    } else {
        format!("{bytes} bytes")
    }
}

/// Parses a size as Kubernetes quantities and people write them: `1048576`, `512Ki`, `16Mi`,
/// `4Gi`, `1Ti`, with an optional `B` (`16MiB`) and the decimal units `K`/`M`/`G`/`T` (`kB`,
/// `MB`, ...). Case-insensitive; no fractions.
pub fn parse(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(format!(
            "{text:?} is not a size; write a number of bytes, or e.g. 512Mi, 4Gi"
        ));
    }
    let (number, unit) = t.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is too large a size"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let factor: u64 = match unit {
        "" => 1,
        "k" => 1_000,
        "m" => 1_000_000,
        "g" => 1_000_000_000,
        "t" => 1_000_000_000_000,
        "ki" => 1 << 10,
        "mi" => 1 << 20,
        "gi" => 1 << 30,
        "ti" => 1 << 40,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit; use Ki, Mi, Gi or Ti (or K, M, G, T)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large a size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human(16 << 20), "16 MiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert_eq!(human(512), "512 bytes");
        assert_eq!(human(1), "1 byte");
        assert_eq!(human(4 << 40), "4 TiB");
    }

    #[test]
    fn parsed_sizes() {
        assert_eq!(parse("1048576"), Ok(1 << 20));
        assert_eq!(parse("16Mi"), Ok(16 << 20));
        assert_eq!(parse("16MiB"), Ok(16 << 20));
        assert_eq!(parse("4gi"), Ok(4 << 30));
        assert_eq!(parse("2G"), Ok(2_000_000_000));
        assert_eq!(parse(" 10 kB "), Ok(10_000));
        assert!(parse("").is_err());
        assert!(parse("Mi").is_err());
        assert!(parse("1.5Gi").is_err());
        assert!(parse("3 parsecs").is_err());
        assert!(parse("99999999999999999999").is_err());
        assert!(parse("99999999999Ti").is_err());
    }
}
