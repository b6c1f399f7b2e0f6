//! The offline asset normaliser (stage 6) and matcher (stage 7) on the sample briefs in
//! `examples/briefs` and the shipped default catalog.

use agent_workers::offline::matcher::{match_asset, CatalogIndex, MatchCandidate, NONE_BELOW};
use agent_workers::offline::normaliser::{normalise, NormalizedAsset, VOLUME_TBC};
use domain::asset::{MatchConfidence, MAX_MATCHES_PER_ASSET};
use domain::catalog::CatalogEntry;
use domain::catalog_import::default_catalog;

const HALVORSEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/briefs/halvorsen-emea-content-rfp.md");
const BRIGHTWATER: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/briefs/brightwater-social-retainer.md");

fn brief(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("sample brief {path} is missing ({e}); these tests read examples/briefs"))
}

fn assets(path: &str) -> Vec<NormalizedAsset> {
    normalise(&brief(path)).assets
}

fn named<'a>(assets: &'a [NormalizedAsset], name: &str) -> &'a NormalizedAsset {
    let listed: Vec<&str> = assets.iter().map(|a| a.raw_name.as_str()).collect();
    assets
        .iter()
        .find(|a| a.raw_name == name)
        .unwrap_or_else(|| panic!("no asset named {name:?} in {listed:?}"))
}

fn asset(name: &str) -> NormalizedAsset {
    NormalizedAsset { raw_name: name.into(), raw_description: String::new(), client_tier: None, volume: 1 }
}

fn entry<'a>(catalog: &'a [CatalogEntry], candidate: &MatchCandidate) -> &'a CatalogEntry {
    catalog.iter().find(|e| e.catalog_id == candidate.gmal_id).expect("candidates come from the catalog")
}

fn best(name: &str, catalog: &[CatalogEntry]) -> CatalogEntry {
    let found = match_asset(&asset(name), catalog);
    let top = found.first().unwrap_or_else(|| panic!("{name:?} matched nothing"));
    entry(catalog, top).clone()
}

#[test]
fn halvorsen_gives_at_least_twenty_distinct_assets_each_with_a_volume() {
    let assets = assets(HALVORSEN);
    let mut keys: Vec<(String, Option<String>)> =
        assets.iter().map(|a| (a.raw_name.to_lowercase(), a.client_tier.clone())).collect();
    keys.sort();
    keys.dedup();
    assert!(assets.len() >= 20, "only {} assets: {:#?}", assets.len(), assets);
    assert_eq!(keys.len(), assets.len(), "duplicates in {assets:#?}");
    assert!(assets.iter().all(|a| a.volume >= 1 && !a.raw_description.is_empty()));
}

#[test]
fn halvorsen_toolbox_a_b_c_becomes_one_row_per_tier() {
    let assets = assets(HALVORSEN);
    let tiered: Vec<&NormalizedAsset> = assets.iter().filter(|a| a.client_tier.is_some()).collect();
    let tiers: Vec<&str> = tiered.iter().filter_map(|a| a.client_tier.as_deref()).collect();
    assert_eq!(tiers, ["A", "B", "C"]);
    for a in tiered {
        assert!(a.raw_name.starts_with("Toolbox"), "{a:?}");
        // "Around 12 toolkits in total, split across tiers TBC": the split is the client's to give.
        assert_eq!(a.volume, 1, "{a:?}");
        assert!(a.raw_description.contains(VOLUME_TBC) && a.raw_description.contains("12"), "{a:?}");
    }
    assert!(named(&assets, "Toolbox B campaign toolkit")
        .raw_description
        .starts_with("Tier B: digital-only toolkit"));
}

#[test]
fn halvorsen_volumes_are_the_briefs_own_numbers_made_annual() {
    let assets = assets(HALVORSEN);
    let volume = |name: &str| named(&assets, name).volume;
    assert_eq!(volume("Key visual (KV)"), 4, "4 hero launches per year");
    assert_eq!(volume("Launch video 30s master"), 4, "4 hero films");
    assert_eq!(volume("Launch video 6s cut-down"), 4, "one cut-down per film");
    assert_eq!(volume("Paid social static"), 600, "~50 per month × 12");
    assert_eq!(volume("Organic social post"), 640, "120-200 per quarter: midpoint 160 × 4");
    assert_eq!(volume("Motion social"), 96, "8 per month × 12");
    assert_eq!(volume("PDP hero image set"), 300, "PDP content for 300 SKUs");
    assert_eq!(volume("CRM email template"), 10);
    assert_eq!(volume("Monthly newsletter"), 12);
    assert_eq!(volume("Standard display banner"), 400);
    assert!(named(&assets, "Organic social post").raw_description.contains("midpoint 160"));
}

#[test]
fn halvorsen_items_without_a_quantity_are_one_and_flagged_tbc() {
    let assets = assets(HALVORSEN);
    for name in ["Retailer banner", "Print point-of-sale leaflet", "Print in-store shelf wobbler"] {
        let a = named(&assets, name);
        assert_eq!(a.volume, 1, "{a:?}");
        assert!(a.raw_description.contains("Volume TBC — confirm with client"), "{a:?}");
    }
}

#[test]
fn halvorsen_assets_are_named_in_the_briefs_own_words() {
    let text = brief(HALVORSEN).to_lowercase();
    let assets = assets(HALVORSEN);
    for a in &assets {
        for word in a.raw_name.split(|c: char| !c.is_alphanumeric() && c != '-').filter(|w| w.len() >= 3) {
            let word = word.to_lowercase();
            let stem = word.trim_end_matches('s');
            assert!(
                text.contains(&word) || text.contains(stem),
                "{word:?} of {:?} is not in the brief",
                a.raw_name
            );
        }
    }
    // "Community management is not in scope for this RFP": not an asset.
    assert!(assets.iter().all(|a| !a.raw_name.to_lowercase().contains("community")));
}

#[test]
fn brightwater_rates_are_annualised_per_centre() {
    let assets = assets(BRIGHTWATER);
    let posts = named(&assets, "Organic post");
    assert_eq!(posts.volume, 3 * 52 * 9, "3 per week per centre, 9 centres: {posts:?}");
    assert_eq!(named(&assets, "Short-form video").volume, 24);
    assert_eq!(named(&assets, "Paid social static").volume, 20);
    assert_eq!(named(&assets, "Paid social video").volume, 4);
    assert_eq!(named(&assets, "Email newsletter design").volume, 12, "one a month");
}

#[test]
fn generic_rules_tiers_ranges_tbc_and_repeats() {
    let text = "## Scope\n- toolbox A/B/C: 10 each\n- PDP hero banners: 100-200\n- Web banners: TBC\n\
                - PDP hero banners: 100-200\n- Influencer fees are out of scope.\n";
    let assets = normalise(text).assets;
    let names: Vec<(&str, Option<&str>, u32)> =
        assets.iter().map(|a| (a.raw_name.as_str(), a.client_tier.as_deref(), a.volume)).collect();
    assert_eq!(
        names,
        [
            ("Toolbox A", Some("A"), 10),
            ("Toolbox B", Some("B"), 10),
            ("Toolbox C", Some("C"), 10),
            ("PDP hero banner", None, 150),
            ("Web banner", None, 1),
        ]
    );
    assert!(assets[4].raw_description.contains(VOLUME_TBC));
    assert_eq!(normalise(text), normalise(text), "deterministic");
}

#[test]
fn tables_and_sentences_name_the_deliverable_not_the_request() {
    let text = "| Asset | Volume |\n|---|---|\n| Static banners | 200 per year |\n\n\
                We need around 40 lifestyle images per quarter.\n";
    let assets = normalise(text).assets;
    let names: Vec<(&str, u32)> = assets.iter().map(|a| (a.raw_name.as_str(), a.volume)).collect();
    assert_eq!(names, [("Static banner", 200), ("Lifestyle image", 160)]);
    let listed = normalise("Monthly newsletters and weekly social posts.").assets;
    let volumes: Vec<(&str, u32)> = listed.iter().map(|a| (a.raw_name.as_str(), a.volume)).collect();
    assert_eq!(volumes, [("Monthly newsletter", 12), ("Weekly social post", 52)]);
}

#[test]
fn named_deliverables_find_their_catalog_routes() {
    let catalog = default_catalog();
    let simple = best("simple static banner", &catalog);
    assert_eq!((simple.category.as_str(), simple.complexity.as_str()), ("Display Banners", "Simple"));
    let complex = best("complex HTML5 banner", &catalog);
    assert_eq!((complex.category.as_str(), complex.complexity.as_str()), ("Display Banners", "Complex"));
    assert!(best("KV shoot", &catalog).category.starts_with("Photography"));
    assert_eq!(best("PDP hero image", &catalog).category, "eCommerce");
    assert_eq!(best("launch video 30s", &catalog).category, "Campaign Video");
    assert_eq!(best("social post", &catalog).category, "Social");
    assert_eq!(best("rich media banner", &catalog).complexity, "Complex");
}

#[test]
fn nonsense_matches_nothing() {
    let found = match_asset(&asset("zxqv blorf wibble"), &default_catalog());
    assert!(found.iter().all(|c| c.confidence == MatchConfidence::None && c.confidence_score < NONE_BELOW));
    assert!(match_asset(&asset("simple banner"), &[]).is_empty());
}

#[test]
fn candidates_are_few_ranked_within_five_percent_and_explained() {
    let catalog = default_catalog();
    for a in assets(HALVORSEN).iter().chain(&assets(BRIGHTWATER)) {
        let found = match_asset(a, &catalog);
        assert!(found.len() <= MAX_MATCHES_PER_ASSET, "{a:?}");
        assert!(found.windows(2).all(|w| w[0].confidence_score >= w[1].confidence_score), "{found:#?}");
        if let Some(top) = found.first() {
            assert!(found.iter().all(|c| c.confidence_score >= top.confidence_score * 0.95));
            let several = found.len() > 1;
            assert!(found.iter().all(|c| (c.confidence == MatchConfidence::Multiple) == several));
        }
        for c in &found {
            let e = entry(&catalog, c);
            assert!((0.0..=1.0).contains(&c.confidence_score));
            assert!(!c.reasoning.is_empty() && c.caveats.contains(e.asset_description.trim_end_matches('.')));
            if let Some(agency) = &e.agency_caveats {
                assert!(c.caveats.contains(agency.as_str()), "agency caveats missing: {}", c.caveats);
            }
        }
        assert_eq!(found, match_asset(a, &catalog), "deterministic");
    }
    let exact = match_asset(&asset("simple static banner"), &catalog);
    assert_eq!((exact.len(), exact[0].confidence), (1, MatchConfidence::Exact));
}

#[test]
fn most_halvorsen_assets_find_a_route() {
    let catalog = default_catalog();
    let index = CatalogIndex::new(&catalog);
    let assets = assets(HALVORSEN);
    let mut bands = std::collections::BTreeMap::<&str, usize>::new();
    let mut matched = 0;
    for a in &assets {
        let found = index.match_asset(a);
        assert_eq!(found, match_asset(a, &catalog));
        let top = found.first();
        let score = top.map_or(0.0, |c| c.confidence_score);
        let band = match score {
            s if s >= 0.9 => "exact (≥0.9)",
            s if s >= 0.6 => "close (0.6–0.89)",
            s if s >= NONE_BELOW => "weak (0.3–0.59)",
            _ => "none (<0.3)",
        };
        *bands.entry(band).or_default() += 1;
        matched += usize::from(score >= NONE_BELOW);
        let route = top.map(|c| format!("{} {:?} {:.2}", c.gmal_id, c.confidence, score)).unwrap_or_default();
        println!(
            "{:36} tier {:4} volume {:5} → {route}",
            a.raw_name,
            a.client_tier.as_deref().unwrap_or("-"),
            a.volume
        );
    }
    println!("distribution of best scores: {bands:?}; {matched}/{} at or above {NONE_BELOW}", assets.len());
    assert!(matched * 5 >= assets.len() * 4, "only {matched} of {} matched: {bands:?}", assets.len());
}
