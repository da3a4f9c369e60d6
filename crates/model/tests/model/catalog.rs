//! Facts about the region and zone catalogue.

use std::collections::HashSet;

use vpngw_model::catalog::{self, region, regions, zone};

#[test]
fn hangzhou_has_its_real_zones() {
    let hz = region("cn-hangzhou").expect("cn-hangzhou");
    let ids: Vec<&str> = hz.zones.iter().map(|z| z.id).collect();
    assert_eq!(
        ids,
        [
            "cn-hangzhou-b",
            "cn-hangzhou-e",
            "cn-hangzhou-f",
            "cn-hangzhou-g",
            "cn-hangzhou-h",
            "cn-hangzhou-i",
            "cn-hangzhou-j",
            "cn-hangzhou-k",
        ]
    );
    assert_eq!(hz.local_name, "华东1（杭州）");
    assert_eq!(hz.local_name_en, "China (Hangzhou)");
    assert_eq!(hz.endpoint, "vpc.aliyuncs.com");
    assert_eq!(hz.id_prefix, "bp1");
    let k = zone("cn-hangzhou", "cn-hangzhou-k").expect("zone k");
    assert_eq!(k.local_name, "杭州 可用区K");
    assert_eq!(k.local_name_en, "Hangzhou Zone K");
    assert!(zone("cn-hangzhou", "cn-hangzhou-a").is_none());
    assert!(zone("cn-beijing", "cn-hangzhou-b").is_none());
}

#[test]
fn known_region_codes() {
    for (id, code) in [
        ("cn-beijing", "2ze"),
        ("cn-shanghai", "uf6"),
        ("cn-shenzhen", "wz9"),
        ("cn-qingdao", "m5e"),
        ("cn-hongkong", "j6c"),
        ("ap-southeast-1", "t4n"),
        ("us-west-1", "rj9"),
        ("eu-central-1", "gw8"),
    ] {
        assert_eq!(region(id).map(|r| r.id_prefix), Some(code), "{id}");
        assert_eq!(catalog::region_by_id_prefix(code).map(|r| r.id), Some(id));
    }
}

#[test]
fn every_zone_belongs_to_its_region() {
    for r in regions() {
        assert!(!r.zones.is_empty(), "{} has no zones", r.id);
        for z in r.zones {
            assert!(z.id.starts_with(r.id), "{} not in {}", z.id, r.id);
            assert!(z.id.len() > r.id.len(), "{}", z.id);
            assert!(z.local_name.contains("可用区"), "{}", z.local_name);
            assert!(z.local_name_en.contains(" Zone "), "{}", z.local_name_en);
        }
    }
}

#[test]
fn ids_and_prefixes_are_unique_and_well_formed() {
    let mut region_ids = HashSet::new();
    let mut zone_ids = HashSet::new();
    let mut prefixes = HashSet::new();
    for r in regions() {
        assert!(region_ids.insert(r.id), "duplicate region {}", r.id);
        assert!(
            prefixes.insert(r.id_prefix),
            "duplicate prefix {}",
            r.id_prefix
        );
        assert_eq!(r.id_prefix.len(), 3, "{}", r.id);
        assert!(
            r.id_prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{}: {}",
            r.id,
            r.id_prefix
        );
        assert!(
            r.endpoint == "vpc.aliyuncs.com" || r.endpoint == format!("vpc.{}.aliyuncs.com", r.id),
            "{}: {}",
            r.id,
            r.endpoint
        );
        assert!(!r.local_name.is_empty() && !r.local_name_en.is_empty());
        for z in r.zones {
            assert!(zone_ids.insert(z.id), "duplicate zone {}", z.id);
        }
    }
}

#[test]
fn lookups_are_exact() {
    assert!(region("CN-HANGZHOU").is_none());
    assert!(region("cn-hangzhou ").is_none());
    assert!(region("").is_none());
    assert!(region("cn-shanghai-finance-1").is_none());
    assert!(catalog::region_by_id_prefix("zzz").is_none());
}

#[test]
fn accept_language_picks_the_name() {
    let r = region("cn-beijing").expect("cn-beijing");
    assert_eq!(r.local_name_for(None), "华北2（北京）");
    assert_eq!(r.local_name_for(Some("zh-CN")), "华北2（北京）");
    assert_eq!(r.local_name_for(Some("en-US")), "China (Beijing)");
    assert_eq!(r.local_name_for(Some("EN")), "China (Beijing)");
    let z = r.zone("cn-beijing-h").expect("zone h");
    assert_eq!(z.local_name_for(Some("en-us")), "Beijing Zone H");
    assert_eq!(z.local_name_for(Some("ja")), "北京 可用区H");
}

#[test]
fn metadata_regions_are_covered() {
    // Every public region in the pinned metadata's VPC endpoint list.
    let spec = include_str!("../../../../spec/vpc-meta.json");
    let special = ["finance", "acdr", "jva"];
    let mut missing = Vec::new();
    let mut checked = 0;
    for line in spec.lines() {
        let Some(rest) = line.trim().strip_prefix('"') else {
            continue;
        };
        if let Some((id, value)) = rest.split_once("\": \"vpc-vpc.")
            && value.starts_with(id)
            && !special.iter().any(|s| id.contains(s))
        {
            checked += 1;
            if region(id).is_none() {
                missing.push(id.to_owned());
            }
        }
    }
    assert!(checked >= 25, "parsed only {checked} regions from the spec");
    assert!(missing.is_empty(), "regions missing: {missing:?}");
}
