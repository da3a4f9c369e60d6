//! The built-in catalogue of real Alibaba Cloud regions and zones that
//! `DescribeRegions` and `DescribeZones` (Vpc 2016-04-28) answer from.
//!
//! Sources (public, checked 2026):
//! - Region ids, Chinese names and order: a recent real `DescribeRegions`
//!   response (ECS, same region service), the ECS "regions and zones" guide,
//!   and the pinned metadata's `regional_vpc_endpoints` (spec/).
//! - English names: the VPC API "Endpoints" page (`China (Qingdao)`, ...).
//! - `RegionEndpoint`: real `aliyun vpc DescribeRegions` output and the SDK
//!   endpoint tables: the nine original regions report the central
//!   `vpc.aliyuncs.com`, every later one `vpc.<region>.aliyuncs.com`.
//! - Zones: the ECS "regions and zones" guide (zone ids and Chinese names such
//!   as `杭州 可用区K`); English names follow the documented
//!   `Hangzhou Zone B` pattern.
//! - `id_prefix`: region codes seen in real resource ids (see each entry).
//!
//! Finance, government and partner-only regions (`cn-*-finance-1`,
//! `cn-heyuan-acdr-1`, `cn-zhengzhou-jva`) are left out: ordinary accounts do
//! not see them.

/// A region as `DescribeRegions` reports it, with its zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region {
    /// `RegionId`, e.g. `cn-hangzhou`.
    pub id: &'static str,
    /// `LocalName` in Chinese, the cloud's default (`AcceptLanguage=zh-CN`).
    pub local_name: &'static str,
    /// `LocalName` for `AcceptLanguage=en-US`.
    pub local_name_en: &'static str,
    /// `RegionEndpoint`.
    pub endpoint: &'static str,
    /// The region's zones, as `DescribeZones` lists them.
    pub zones: &'static [Zone],
    /// Three-character region code that real resource ids embed after their
    /// type prefix (`vpn-bp1…` in cn-hangzhou).
    pub id_prefix: &'static str,
}

/// A zone as `DescribeZones` reports it (`ZoneType` is always
/// `AvailabilityZone`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone {
    /// `ZoneId`, e.g. `cn-hangzhou-k` or `ap-southeast-1a`.
    pub id: &'static str,
    /// `LocalName` in Chinese, e.g. `杭州 可用区K`.
    pub local_name: &'static str,
    /// `LocalName` in English, e.g. `Hangzhou Zone K`.
    pub local_name_en: &'static str,
}

impl Region {
    /// The zone with this id, if it belongs to the region.
    pub fn zone(&self, zone_id: &str) -> Option<&'static Zone> {
        self.zones.iter().find(|z| z.id == zone_id)
    }

    /// `LocalName` for an `AcceptLanguage` value: English for `en…`, the
    /// default Chinese otherwise.
    pub fn local_name_for(&self, accept_language: Option<&str>) -> &'static str {
        if wants_english(accept_language) {
            self.local_name_en
        } else {
            self.local_name
        }
    }
}

impl Zone {
    /// `LocalName` for an `AcceptLanguage` value (see [`Region::local_name_for`]).
    pub fn local_name_for(&self, accept_language: Option<&str>) -> &'static str {
        if wants_english(accept_language) {
            self.local_name_en
        } else {
            self.local_name
        }
    }
}

fn wants_english(accept_language: Option<&str>) -> bool {
    accept_language.is_some_and(|l| l.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("en")))
}

/// Every region, in the order the cloud lists them.
pub fn regions() -> &'static [Region] {
    REGIONS
}

/// The region with this id (exact, case-sensitive).
pub fn region(id: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.id == id)
}

/// The zone `zone_id` of region `region_id`.
pub fn zone(region_id: &str, zone_id: &str) -> Option<&'static Zone> {
    region(region_id)?.zone(zone_id)
}

/// The region whose resource ids carry this code (`bp1` → cn-hangzhou).
pub fn region_by_id_prefix(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.id_prefix == code)
}

/// The region encoded in a resource id (`vco-bp1…` is in cn-hangzhou): the
/// three characters after the type prefix's dash.
pub fn region_of_id(id: &str) -> Option<&'static Region> {
    id.split_once('-')
        .and_then(|(_, rest)| rest.get(..3))
        .and_then(region_by_id_prefix)
}

/// Builds a zone list: `zones!("cn-hangzhou-", "杭州", "Hangzhou"; b B, e E)`
/// gives `cn-hangzhou-b` / `杭州 可用区B` / `Hangzhou Zone B`, ...
macro_rules! zones {
    ($stem:literal, $zh:literal, $en:literal; $($lower:ident $upper:ident),+ $(,)?) => {
        &[$(Zone {
            id: concat!($stem, stringify!($lower)),
            local_name: concat!($zh, " 可用区", stringify!($upper)),
            local_name_en: concat!($en, " Zone ", stringify!($upper)),
        }),+]
    };
}

const CENTRAL: &str = "vpc.aliyuncs.com";

static REGIONS: &[Region] = &[
    Region {
        id: "cn-qingdao",
        local_name: "华北1（青岛）",
        local_name_en: "China (Qingdao)",
        endpoint: CENTRAL,
        zones: zones!("cn-qingdao-", "青岛", "Qingdao"; b B, c C),
        id_prefix: "m5e", // vpc-m5e… / i-m5e… with region cn-qingdao
    },
    Region {
        id: "cn-beijing",
        local_name: "华北2（北京）",
        local_name_en: "China (Beijing)",
        endpoint: CENTRAL,
        zones: zones!("cn-beijing-", "北京", "Beijing";
            a A, b B, c C, d D, e E, f F, g G, h H, i I, j J, k K, l L),
        id_prefix: "2ze", // epsrv-2ze… in cn-beijing
    },
    Region {
        id: "cn-zhangjiakou",
        local_name: "华北3（张家口）",
        local_name_en: "China (Zhangjiakou)",
        endpoint: "vpc.cn-zhangjiakou.aliyuncs.com",
        zones: zones!("cn-zhangjiakou-", "张家口", "Zhangjiakou"; a A, b B, c C),
        id_prefix: "8vb", // epsrv-8vb… in cn-zhangjiakou
    },
    Region {
        id: "cn-huhehaote",
        local_name: "华北5（呼和浩特）",
        local_name_en: "China (Hohhot)",
        endpoint: "vpc.cn-huhehaote.aliyuncs.com",
        zones: zones!("cn-huhehaote-", "呼和浩特", "Hohhot"; a A, b B),
        id_prefix: "hp3", // epsrv-hp3… / vsw-hp3… in cn-huhehaote
    },
    Region {
        id: "cn-wulanchabu",
        local_name: "华北6（乌兰察布）",
        local_name_en: "China (Ulanqab)",
        endpoint: "vpc.cn-wulanchabu.aliyuncs.com",
        zones: zones!("cn-wulanchabu-", "乌兰察布", "Ulanqab"; a A, b B, c C),
        id_prefix: "0jl", // epsrv-0jl… in cn-wulanchabu
    },
    Region {
        id: "cn-hangzhou",
        local_name: "华东1（杭州）",
        local_name_en: "China (Hangzhou)",
        endpoint: CENTRAL,
        zones: zones!("cn-hangzhou-", "杭州", "Hangzhou";
            b B, e E, f F, g G, h H, i I, j J, k K),
        id_prefix: "bp1", // epsrv-bp1… in cn-hangzhou
    },
    Region {
        id: "cn-shanghai",
        local_name: "华东2（上海）",
        local_name_en: "China (Shanghai)",
        endpoint: CENTRAL,
        zones: zones!("cn-shanghai-", "上海", "Shanghai";
            a A, b B, c C, d D, e E, f F, g G, k K, l L, m M, n N, o O),
        id_prefix: "uf6", // epsrv-uf6… in cn-shanghai
    },
    Region {
        id: "cn-nanjing",
        local_name: "华东5（南京-本地地域）",
        local_name_en: "China (Nanjing - Local Region)",
        endpoint: "vpc.cn-nanjing.aliyuncs.com",
        zones: zones!("cn-nanjing-", "南京-本地地域", "Nanjing - Local Region"; a A),
        id_prefix: "gc7", // inferred
    },
    Region {
        id: "cn-shenzhen",
        local_name: "华南1（深圳）",
        local_name_en: "China (Shenzhen)",
        endpoint: CENTRAL,
        zones: zones!("cn-shenzhen-", "深圳", "Shenzhen"; a A, b B, c C, d D, e E, f F),
        id_prefix: "wz9", // common in cn-shenzhen ids
    },
    Region {
        id: "cn-heyuan",
        local_name: "华南2（河源）",
        local_name_en: "China (Heyuan)",
        endpoint: "vpc.cn-heyuan.aliyuncs.com",
        zones: zones!("cn-heyuan-", "河源", "Heyuan"; a A, b B),
        id_prefix: "f8z", // vpc-f8z… documented with RegionId cn-heyuan
    },
    Region {
        id: "cn-guangzhou",
        local_name: "华南3（广州）",
        local_name_en: "China (Guangzhou)",
        endpoint: "vpc.cn-guangzhou.aliyuncs.com",
        zones: zones!("cn-guangzhou-", "广州", "Guangzhou"; a A, b B),
        id_prefix: "7xv", // vpc-7xv… / vsw-7xv… in cn-guangzhou-a
    },
    Region {
        id: "cn-fuzhou",
        local_name: "华东6（福州-本地地域）",
        local_name_en: "China (Fuzhou - Local Region)",
        endpoint: "vpc.cn-fuzhou.aliyuncs.com",
        zones: zones!("cn-fuzhou-", "福州-本地地域", "Fuzhou - Local Region"; a A),
        id_prefix: "gd3", // inferred
    },
    Region {
        id: "cn-wuhan-lr",
        local_name: "华中1（武汉-本地地域）",
        local_name_en: "China (Wuhan - Local Region)",
        endpoint: "vpc.cn-wuhan-lr.aliyuncs.com",
        zones: zones!("cn-wuhan-lr-", "武汉-本地地域", "Wuhan - Local Region"; a A),
        id_prefix: "n4q", // inferred
    },
    Region {
        id: "cn-chengdu",
        local_name: "西南1（成都）",
        local_name_en: "China (Chengdu)",
        endpoint: "vpc.cn-chengdu.aliyuncs.com",
        zones: zones!("cn-chengdu-", "成都", "Chengdu"; a A, b B),
        id_prefix: "2vc", // vpc-2vc… / vsw-2vc… in cn-chengdu-a
    },
    Region {
        id: "cn-hongkong",
        local_name: "中国香港",
        local_name_en: "China (Hong Kong)",
        endpoint: CENTRAL,
        zones: zones!("cn-hongkong-", "香港", "Hong Kong"; b B, c C, d D),
        id_prefix: "j6c", // common in cn-hongkong ids
    },
    Region {
        id: "ap-northeast-1",
        local_name: "日本（东京）",
        local_name_en: "Japan (Tokyo)",
        endpoint: "vpc.ap-northeast-1.aliyuncs.com",
        zones: zones!("ap-northeast-1", "东京", "Tokyo"; a A, b B, c C),
        id_prefix: "6we", // vpc-6we… / vsw-6we… in ap-northeast-1a
    },
    Region {
        id: "ap-northeast-2",
        local_name: "韩国（首尔）",
        local_name_en: "South Korea (Seoul)",
        endpoint: "vpc.ap-northeast-2.aliyuncs.com",
        zones: zones!("ap-northeast-2", "首尔", "Seoul"; a A, b B),
        id_prefix: "mj7", // vpc-mj7… / vsw-mj7… in ap-northeast-2
    },
    Region {
        id: "ap-southeast-1",
        local_name: "新加坡",
        local_name_en: "Singapore",
        endpoint: CENTRAL,
        zones: zones!("ap-southeast-1", "新加坡", "Singapore"; a A, b B, c C),
        id_prefix: "t4n", // epsrv-t4n… in ap-southeast-1
    },
    // Closed to new customers; still listed by DescribeRegions.
    Region {
        id: "ap-southeast-2",
        local_name: "澳大利亚（悉尼）",
        local_name_en: "Australia (Sydney)",
        endpoint: "vpc.ap-southeast-2.aliyuncs.com",
        zones: zones!("ap-southeast-2", "悉尼", "Sydney"; a A, b B),
        id_prefix: "p0w", // inferred (p0w is common in vendor examples)
    },
    Region {
        id: "ap-southeast-3",
        local_name: "马来西亚（吉隆坡）",
        local_name_en: "Malaysia (Kuala Lumpur)",
        endpoint: "vpc.ap-southeast-3.aliyuncs.com",
        zones: zones!("ap-southeast-3", "吉隆坡", "Kuala Lumpur"; a A, b B, c C),
        id_prefix: "8ps", // vpc-8ps… with RegionId ap-southeast-3
    },
    Region {
        id: "ap-southeast-6",
        local_name: "菲律宾（马尼拉）",
        local_name_en: "Philippines (Manila)",
        endpoint: "vpc.ap-southeast-6.aliyuncs.com",
        zones: zones!("ap-southeast-6", "马尼拉", "Manila"; a A, b B),
        id_prefix: "5ts", // vpc-5ts… / vsw-5ts… in ap-southeast-6a
    },
    Region {
        id: "ap-southeast-5",
        local_name: "印度尼西亚（雅加达）",
        local_name_en: "Indonesia (Jakarta)",
        endpoint: "vpc.ap-southeast-5.aliyuncs.com",
        zones: zones!("ap-southeast-5", "雅加达", "Jakarta"; a A, b B, c C),
        id_prefix: "k1a", // vpc-k1a… / vsw-k1a… in ap-southeast-5a
    },
    // Closed to new customers; still listed by DescribeRegions.
    Region {
        id: "ap-south-1",
        local_name: "印度（孟买）",
        local_name_en: "India (Mumbai)",
        endpoint: "vpc.ap-south-1.aliyuncs.com",
        zones: zones!("ap-south-1", "孟买", "Mumbai"; a A, b B),
        id_prefix: "a2d", // vpc-a2d… in an ap-south-1 cluster
    },
    Region {
        id: "ap-southeast-7",
        local_name: "泰国（曼谷）",
        local_name_en: "Thailand (Bangkok)",
        endpoint: "vpc.ap-southeast-7.aliyuncs.com",
        zones: zones!("ap-southeast-7", "曼谷", "Bangkok"; a A, b B),
        id_prefix: "0jr", // inferred
    },
    Region {
        id: "us-east-1",
        local_name: "美国（弗吉尼亚）",
        local_name_en: "US (Virginia)",
        endpoint: CENTRAL,
        zones: zones!("us-east-1", "弗吉尼亚", "Virginia"; a A, b B),
        id_prefix: "0xi", // vpc-0xi… / vsw-0xi… in us-east-1a
    },
    Region {
        id: "us-west-1",
        local_name: "美国（硅谷）",
        local_name_en: "US (Silicon Valley)",
        endpoint: CENTRAL,
        zones: zones!("us-west-1", "硅谷", "Silicon Valley"; a A, b B),
        id_prefix: "rj9", // epsrv-rj9… in us-west-1
    },
    Region {
        id: "eu-west-1",
        local_name: "英国（伦敦）",
        local_name_en: "UK (London)",
        endpoint: "vpc.eu-west-1.aliyuncs.com",
        zones: zones!("eu-west-1", "伦敦", "London"; a A, b B),
        id_prefix: "d7o", // vpc-d7o… for a redis.eu-west-1 instance
    },
    Region {
        id: "me-east-1",
        local_name: "阿联酋（迪拜）",
        local_name_en: "UAE (Dubai)",
        endpoint: "vpc.me-east-1.aliyuncs.com",
        zones: zones!("me-east-1", "迪拜", "Dubai"; a A, b B),
        id_prefix: "eb3", // i-/vsw-/vpc-eb3… in me-east-1a
    },
    Region {
        id: "eu-central-1",
        local_name: "德国（法兰克福）",
        local_name_en: "Germany (Frankfurt)",
        endpoint: "vpc.eu-central-1.aliyuncs.com",
        zones: zones!("eu-central-1", "法兰克福", "Frankfurt"; a A, b B, c C),
        id_prefix: "gw8", // vpc-gw8… with ChildInstanceRegionId eu-central-1
    },
    // Partner-operated region.
    Region {
        id: "me-central-1",
        local_name: "沙特（利雅得）",
        local_name_en: "Saudi Arabia (Riyadh)",
        endpoint: "vpc.me-central-1.aliyuncs.com",
        zones: zones!("me-central-1", "利雅得", "Riyadh"; a A, b B),
        id_prefix: "l4v", // vpc-l4v… / vsw-l4v… with region_id me-central-1
    },
    Region {
        id: "na-south-1",
        local_name: "墨西哥",
        local_name_en: "Mexico",
        endpoint: "vpc.na-south-1.aliyuncs.com",
        zones: zones!("na-south-1", "墨西哥", "Mexico"; a A),
        id_prefix: "4hf", // lb-4hf… (an SLB) in na-south-1; weak evidence
    },
];
