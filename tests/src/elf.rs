//! Just enough ELF reading to check a Lambda binary: its machine and the newest glibc symbol
//! version it needs (from `.gnu.version_r`). ELF64 little-endian only, which is what we build.

/// What a binary needs from its platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// `e_machine`: 62 for x86_64, 183 for aarch64.
    pub machine: u16,
    /// Every `GLIBC_x.y` version required, as (x, y).
    pub glibc: Vec<(u32, u32)>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)).ok()
}

fn c_str(b: &[u8], at: usize) -> Option<&str> {
    let rest = b.get(at..)?;
    std::str::from_utf8(&rest[..rest.iter().position(|&c| c == 0)?]).ok()
}

/// Reads the machine and glibc version needs; `None` if this is not a 64-bit little-endian ELF.
pub fn needs(b: &[u8]) -> Option<Needs> {
    if b.get(..4)? != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
        return None;
    }
    let machine = u16_at(b, 18)?;
    let (shoff, shentsize, shnum) = (u64_at(b, 40)?, usize::from(u16_at(b, 58)?), usize::from(u16_at(b, 60)?));
    let section = |i: usize| shoff + i * shentsize;
    let mut glibc = Vec::new();
    for i in 0..shnum {
        let sh = section(i);
        // SHT_GNU_verneed
        if u32_at(b, sh + 4)? != 0x6fff_fffe {
            continue;
        }
        let (offset, link, count) = (u64_at(b, sh + 24)?, u32_at(b, sh + 40)? as usize, u32_at(b, sh + 44)?);
        let strtab = u64_at(b, section(link) + 24)?;
        let mut need = offset;
        for _ in 0..count {
            let (aux_count, aux_off, next) =
                (u16_at(b, need + 2)?, u32_at(b, need + 8)? as usize, u32_at(b, need + 12)? as usize);
            let mut aux = need + aux_off;
            for _ in 0..aux_count {
                let name = c_str(b, strtab + u32_at(b, aux + 8)? as usize)?;
                if let Some(v) = name.strip_prefix("GLIBC_") {
                    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
                    if let (Some(Some(x)), Some(Some(y))) = (parts.next(), parts.next()) {
                        glibc.push((x, y));
                    }
                }
                let next_aux = u32_at(b, aux + 12)? as usize;
                if next_aux == 0 {
                    break;
                }
                aux += next_aux;
            }
            if next == 0 {
                break;
            }
            need += next;
        }
    }
    glibc.sort();
    glibc.dedup();
    Some(Needs { machine, glibc })
}
