use std::collections::HashSet;

use vpngw_identity::keys::*;
use vpngw_identity::*;

fn sb() -> SecretBox {
    SecretBox::new(MasterKey::generate())
}

#[test]
fn seal_open_round_trip() {
    let b = sb();
    for pt in [
        &b""[..],
        b"x",
        b"pre-shared key with spaces",
        &[0u8, 255, 7, 9][..],
    ] {
        let sealed = b.seal(pt, b"vpnconnection.psk:vco-1");
        assert_eq!(sealed.len(), pt.len() + OVERHEAD);
        assert_eq!(sealed[0], FORMAT_V1);
        let opened = b.open(&sealed, b"vpnconnection.psk:vco-1").expect("opens");
        assert_eq!(&opened[..], pt);
    }
    let long = vec![0x5au8; 100_000];
    assert_eq!(
        &b.open(&b.seal(&long, b""), b"").expect("opens")[..],
        &long[..]
    );
}

#[test]
fn sealing_is_randomised() {
    let b = sb();
    let a1 = b.seal(b"same", b"ad");
    let a2 = b.seal(b"same", b"ad");
    assert_ne!(a1, a2, "fresh nonce per message");
    assert_ne!(a1[1..25], a2[1..25]);
}

#[test]
fn any_flipped_bit_is_detected() {
    let b = sb();
    let sealed = b.seal(b"AccessKeySecretAccessKeySecret", b"accesskey:LTAI");
    for i in 0..sealed.len() {
        for bit in [0x01u8, 0x80] {
            let mut t = sealed.clone();
            t[i] ^= bit;
            let r = b.open(&t, b"accesskey:LTAI");
            assert!(r.is_err(), "flip at byte {i} went unnoticed");
            if i == 0 {
                assert!(matches!(r, Err(OpenError::UnsupportedVersion(_))));
            } else {
                assert_eq!(r.err(), Some(OpenError::Authentication));
            }
        }
    }
    // Truncation and extension are refused too.
    for n in 0..sealed.len() {
        assert!(
            b.open(&sealed[..n], b"accesskey:LTAI").is_err(),
            "truncated to {n}"
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(
        b.open(&longer, b"accesskey:LTAI").err(),
        Some(OpenError::Authentication)
    );
}

#[test]
fn wrong_associated_data_or_key_is_refused() {
    let b = sb();
    let ad1 = associated_data("accesskey", "LTAI0000000000000000000A");
    let ad2 = associated_data("accesskey", "LTAI0000000000000000000B");
    assert_eq!(ad1, b"accesskey:LTAI0000000000000000000A".to_vec());
    let sealed = b.seal_str("secret-one", &ad1);
    assert_eq!(
        b.open_str(&sealed, &ad1).expect("opens").expose(),
        "secret-one"
    );
    // Swapping ciphertexts between rows fails.
    assert_eq!(
        b.open_str(&sealed, &ad2).err(),
        Some(OpenError::Authentication)
    );
    assert_eq!(
        b.open_str(
            &sealed,
            &associated_data("vpnconnection.psk", "LTAI0000000000000000000A")
        )
        .err(),
        Some(OpenError::Authentication)
    );
    assert_eq!(
        b.open_str(&sealed, b"").err(),
        Some(OpenError::Authentication)
    );
    // Another master key cannot open it.
    assert_eq!(
        sb().open_str(&sealed, &ad1).err(),
        Some(OpenError::Authentication)
    );
    assert_eq!(
        b.open_str("%%% not base64", &ad1).err(),
        Some(OpenError::Encoding)
    );
    assert_eq!(b.open_str("", &ad1).err(), Some(OpenError::Truncated));
}

#[test]
fn open_str_refuses_non_utf8() {
    let b = sb();
    let sealed = b.seal(&[0xff, 0xfe], b"x");
    let text = base64_std(&sealed);
    assert_eq!(b.open_str(&text, b"x").err(), Some(OpenError::NotUtf8));
}

fn base64_std(bytes: &[u8]) -> String {
    // Tiny encoder so the test does not depend on the crate's choice of library.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                out.push(char::from(A[((v >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn secret_never_shows_in_debug_or_display() {
    let s = Secret::new("hunter2-very-secret");
    assert_eq!(format!("{s:?}"), "[REDACTED]");
    assert_eq!(format!("{s}"), "[REDACTED]");
    assert_eq!(format!("{:#?}", Some(&s)), "Some(\n    [REDACTED],\n)");
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Row {
        id: String,
        secret: Secret,
    }
    let row = Row {
        id: "LTAI".into(),
        secret: s.clone(),
    };
    assert!(!format!("{row:?}").contains("hunter2"));
    assert_eq!(s.expose(), "hunter2-very-secret");
    let k = MasterKey::generate();
    assert_eq!(format!("{k:?}"), "MasterKey([REDACTED])");
    assert_eq!(format!("{:?}", SecretBox::new(k)), "SecretBox([REDACTED])");
}

#[test]
fn secret_equality() {
    assert_eq!(Secret::new("abc"), Secret::from("abc"));
    assert_ne!(Secret::new("abc"), Secret::new("abd"));
    assert_ne!(Secret::new("abc"), Secret::new("abcd"));
    assert!(Secret::new("abc").ct_eq_str("abc"));
    assert!(!Secret::new("abc").ct_eq_str("ABC"));
    assert!(Secret::default().is_empty());
}

#[test]
fn master_key_encodings() {
    let k = MasterKey::generate();
    let b64 = k.to_base64();
    assert_eq!(b64.len(), 44);
    let sb1 = SecretBox::new(k.clone());
    let sealed = sb1.seal(b"x", b"");
    let roundtrip = |text: &str| {
        let k2 = MasterKey::from_encoded(text).expect("decodes");
        assert_eq!(
            &SecretBox::new(k2).open(&sealed, b"").expect("same key")[..],
            b"x"
        );
    };
    roundtrip(b64.expose());
    roundtrip(&format!("  {}\n", b64.expose()));
    roundtrip(b64.expose().trim_end_matches('='));
    roundtrip(&b64.expose().replace('+', "-").replace('/', "_"));

    let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let from_hex = MasterKey::from_encoded(hex).expect("hex");
    let from_b64 =
        MasterKey::from_encoded("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("b64");
    let c = SecretBox::new(from_hex).seal(b"y", b"");
    assert_eq!(
        &SecretBox::new(from_b64).open(&c, b"").expect("same")[..],
        b"y"
    );
    assert!(MasterKey::from_encoded(&hex.to_uppercase()).is_some());

    for bad in [
        "",
        "short",
        &hex[..62],
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
        "zz",
    ] {
        assert!(MasterKey::from_encoded(bad).is_none(), "{bad:?} accepted");
    }
    assert!(MasterKey::from_env_value(None).expect("ok").is_none());
    assert!(MasterKey::from_env_value(Some("  ")).expect("ok").is_none());
    assert!(MasterKey::from_env_value(Some(hex)).expect("ok").is_some());
    let e = MasterKey::from_env_value(Some("not-a-key-but-secretish")).expect_err("malformed");
    assert!(
        !e.to_string().contains("secretish"),
        "error must not echo the value"
    );
    assert!(e.to_string().contains(MASTER_KEY_ENV));
}

#[cfg(unix)]
#[test]
fn key_file_is_created_0600_and_reused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data").join("master.key");
    let (k1, created) = MasterKey::load_or_create(&path).expect("create");
    assert!(created);
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let content = std::fs::read_to_string(&path).expect("read");
    assert_eq!(content.trim_end().len(), 44);
    assert!(content.ends_with('\n'));
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    let (k2, created2) = MasterKey::load_or_create(&path).expect("load");
    assert!(!created2);
    let c = SecretBox::new(k1).seal(b"z", b"");
    assert_eq!(
        &SecretBox::new(k2).open(&c, b"").expect("same key")[..],
        b"z"
    );

    // The environment variable wins over the file.
    let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let (_, src) = MasterKey::resolve_with(Some(hex), &path).expect("env");
    assert_eq!(src, KeySource::Env);
    let (_, src) = MasterKey::resolve_with(None, &path).expect("file");
    assert_eq!(
        src,
        KeySource::File {
            path: path.clone(),
            created: false
        }
    );

    // Insecure permissions are refused.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    match MasterKey::load(&path) {
        Err(KeyError::InsecurePermissions { mode, .. }) => assert_eq!(mode & 0o777, 0o644),
        other => panic!("expected InsecurePermissions, got {other:?}"),
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::fs::write(&path, "garbage\n").expect("write");
    assert!(matches!(
        MasterKey::load(&path),
        Err(KeyError::Malformed { .. })
    ));
    assert!(matches!(
        MasterKey::load(dir.path()),
        Err(KeyError::NotAFile { .. })
    ));
}

#[cfg(unix)]
#[test]
fn concurrent_creation_agrees_on_one_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("master.key");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let p = path.clone();
            std::thread::spawn(move || MasterKey::load_or_create(&p).expect("key"))
        })
        .collect();
    let results: Vec<(MasterKey, bool)> = handles
        .into_iter()
        .map(|h| h.join().expect("join"))
        .collect();
    assert_eq!(
        results.iter().filter(|(_, c)| *c).count(),
        1,
        "exactly one creator"
    );
    let sealed = SecretBox::new(results[0].0.clone()).seal(b"k", b"");
    for (k, _) in &results {
        assert_eq!(
            &SecretBox::new(k.clone()).open(&sealed, b"").expect("same")[..],
            b"k"
        );
    }
}

#[test]
fn credential_formats() {
    let mut ids = HashSet::new();
    for _ in 0..200 {
        let id = generate_access_key_id();
        assert_eq!(id.len(), 24);
        assert!(id.starts_with("LTAI"));
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(is_access_key_id(&id));
        assert!(ids.insert(id));

        let s = generate_access_key_secret();
        assert_eq!(s.len(), 30);
        assert!(s.expose().bytes().all(|b| b.is_ascii_alphanumeric()));

        let sts = generate_sts_access_key_id();
        assert_eq!(sts.len(), 29);
        assert!(sts.starts_with("STS."));
        assert!(is_sts_access_key_id(&sts));
        assert!(!is_access_key_id(&sts));
        let sts_secret = generate_sts_access_key_secret();
        assert_eq!(sts_secret.len(), 44);

        let tok = generate_security_token();
        assert!(tok.expose().starts_with("CAIS"));
        assert_eq!(tok.len(), 4 + 256);

        let acct = generate_account_id();
        assert_eq!(acct.len(), 16);
        assert!(acct.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(acct.as_bytes()[0], b'0');
        assert_eq!(generate_user_id().len(), 16);
        assert_eq!(generate_role_id().len(), 18);
    }
    assert_eq!(generate_numeric_id(0), "");
    assert_eq!(generate_numeric_id(1).len(), 1);
    assert!(!is_access_key_id("LTAI-short"));
    assert!(!is_sts_access_key_id("STS."));
}

#[test]
fn generated_alphabet_is_roughly_uniform() {
    // 62 symbols, 62_000 draws: each symbol expected 1000 times; a biased generator
    // (e.g. `byte % 62`) would over-represent the first 8 symbols by ~25%.
    let mut counts = std::collections::HashMap::new();
    for _ in 0..(62_000 / 30) + 1 {
        for c in generate_access_key_secret().expose().chars() {
            *counts.entry(c).or_insert(0usize) += 1;
        }
    }
    assert_eq!(counts.len(), 62);
    for (c, n) in counts {
        assert!((800..1200).contains(&n), "{c}: {n}");
    }
}
