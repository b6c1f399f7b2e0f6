//! The catalog import: the shipped default catalog, the customer's sheet shape, and every rejection.

use std::collections::BTreeSet;

use domain::catalog::RoleHours;
use domain::catalog_import::{default_catalog, parse_csv, parse_rows, RowError, DEFAULT_CATALOG_CSV};
use domain::roles::RoleLocation;

const HEADER: &str = "catalog_id,category,sub_category,sub_category_description,asset_name,complexity,\
asset_description,complexity_description,agency_caveats,total_asset_hours,model_type,\
role_1,role_1_location,role_1_hours,role_2,role_2_location,role_2_hours,role_3,role_3_location,role_3_hours";

/// A valid data row for `id` and `model`: Art Director 1 h onshore plus Designer 2.5 h offshore.
fn row(id: &str, model: &str) -> String {
    format!(
        "{id},Display Banners,Static Banner,One banner,Static banner,Simple,A banner,Template,No media,\
         3.5,{model},Art Director,onshore,1,designer,Offshore,2.5,,,"
    )
}

fn sheet(rows: &[&str]) -> String {
    std::iter::once(HEADER).chain(rows.iter().copied()).collect::<Vec<_>>().join("\n")
}

fn errors(text: &str) -> Vec<RowError> {
    parse_csv(text).expect_err("the sheet should be rejected")
}

/// Asserts exactly one error, on `row` and `field`, whose message mentions `says`.
fn rejects(rows: &[&str], row: usize, field: &str, says: &str) {
    let errors = errors(&sheet(rows));
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!((e.row, e.field.as_str()), (row, field), "{e:?}");
    assert!(e.message.to_lowercase().contains(says), "{e:?} should say {says}");
}

#[test]
fn the_default_catalog_parses_with_both_model_types_for_every_entry() {
    assert!(DEFAULT_CATALOG_CSV.starts_with('#'), "the file says it is illustrative");
    let catalog = default_catalog();
    assert!(catalog.len() >= 160, "{} entries", catalog.len());
    let ids: BTreeSet<_> = catalog.iter().map(|e| e.catalog_id.as_str()).collect();
    assert_eq!(ids.len(), catalog.len());
    assert!(catalog.windows(2).all(|w| w[0].catalog_id < w[1].catalog_id), "sorted by id");
    for e in &catalog {
        let models: Vec<_> = e.hours.keys().map(String::as_str).collect();
        assert_eq!(models, ["hybrid", "standard"], "{}", e.catalog_id);
        let (standard, hybrid) = (e.total_hours("standard").unwrap(), e.total_hours("hybrid").unwrap());
        assert!(hybrid < standard, "{}: hybrid {hybrid} vs standard {standard}", e.catalog_id);
        assert!(e.hours["standard"].iter().all(|r| r.location == RoleLocation::Onshore));
        assert!(hybrid >= 0.7 * standard, "{}: hybrid {hybrid} vs standard {standard}", e.catalog_id);
        let production =
            ["Designer", "Artworker", "Retoucher", "Animator", "Video Editor", "Localisation Specialist"];
        let onshore_production =
            |r: &&RoleHours| production.contains(&r.role.as_str()) && r.location == RoleLocation::Onshore;
        assert!(!e.hours["hybrid"].iter().any(|r| onshore_production(&r)), "{}", e.catalog_id);
    }
}

#[test]
fn the_default_catalog_covers_every_category_and_programme_roles() {
    let catalog = default_catalog();
    let categories: BTreeSet<_> = catalog.iter().map(|e| e.category.as_str()).collect();
    for wanted in [
        "Photography / Key Visual",
        "Campaign Video",
        "Social",
        "Display Banners",
        "eCommerce",
        "Copywriting",
        "CRM Email",
        "Print",
        "Localisation / Adaptation",
        "Programme",
    ] {
        assert!(categories.contains(wanted), "missing {wanted}");
        let levels: BTreeSet<_> =
            catalog.iter().filter(|e| e.category == wanted).map(|e| e.complexity.as_str()).collect();
        assert_eq!(levels, BTreeSet::from(["Complex", "Medium", "Simple"]), "{wanted}");
    }
    let programme = catalog.iter().filter(|e| e.catalog_id.starts_with("GMAL-PGM-")).collect::<Vec<_>>();
    assert!(!programme.is_empty());
    let roles: BTreeSet<_> =
        programme.iter().flat_map(|e| &e.hours["standard"]).map(|r| r.role.as_str()).collect();
    for leader in ["Programme Director", "Head of Project Management", "Account Director"] {
        assert!(roles.contains(leader), "no {leader} in programme entries");
    }
    let banner = catalog.iter().find(|e| e.catalog_id == "GMAL-DIS-001").unwrap();
    assert!((2.0..=4.0).contains(&banner.total_hours("standard").unwrap()), "a simple static banner");
}

#[test]
fn a_small_valid_sheet_round_trips_every_field() {
    let text = sheet(&[&row("GMAL-DIS-001", "Standard")]);
    let catalog = parse_csv(&text).unwrap();
    assert_eq!(catalog.len(), 1);
    let e = &catalog[0];
    assert_eq!(e.catalog_id, "GMAL-DIS-001");
    assert_eq!((e.category.as_str(), e.sub_category.as_str()), ("Display Banners", "Static Banner"));
    assert_eq!(e.sub_category_description.as_deref(), Some("One banner"));
    assert_eq!((e.asset_name.as_str(), e.complexity.as_str()), ("Static banner", "Simple"));
    assert_eq!(e.asset_description, "A banner");
    assert_eq!(e.complexity_description.as_deref(), Some("Template"));
    assert_eq!(e.agency_caveats.as_deref(), Some("No media"));
    let roles = &e.hours["standard"];
    assert_eq!(roles.len(), 2);
    assert_eq!(
        (roles[0].role.as_str(), roles[0].location, roles[0].hours),
        ("Art Director", RoleLocation::Onshore, 1.0)
    );
    assert_eq!(
        (roles[1].role.as_str(), roles[1].location, roles[1].hours),
        ("Designer", RoleLocation::Offshore, 2.5)
    );
    assert_eq!(e.total_hours("standard"), Some(3.5));
}

#[test]
fn header_variants_bom_padding_and_optional_columns_are_accepted() {
    let text =
        "\u{feff}Catalog ID , CATEGORY,Asset Name,Complexity,Role 1,Role 1 Location,Role1Hours,role-2,\
                ROLE_2_LOCATION,Role 2 Hours\n GMAL-X-1 ,Print,Poster,Medium,  Artworker ,near,2,\
                Designer,,0\n";
    let catalog = parse_csv(text).unwrap();
    let e = &catalog[0];
    assert_eq!(
        (e.catalog_id.as_str(), e.sub_category.as_str(), e.agency_caveats.as_deref()),
        ("GMAL-X-1", "", None)
    );
    let roles = &e.hours["standard"];
    assert_eq!(roles.len(), 1, "the zero-hour triplet is dropped");
    assert_eq!((roles[0].role.as_str(), roles[0].location), ("Artworker", RoleLocation::Nearshore));
}

#[test]
fn comment_and_blank_lines_are_skipped_but_still_counted_as_rows() {
    let text =
        format!("# illustrative\n{HEADER}\n\n# a note\n{}\n,,,\n{}\n", row("B", "standard"), "A,Print");
    let errors = errors(&text);
    assert_eq!(errors.iter().map(|e| e.row).collect::<BTreeSet<_>>(), BTreeSet::from([7]), "{errors:?}");
    let text =
        format!("# illustrative\n{HEADER}\n\n# a note\n{}\n\n{}", row("B", "standard"), row("A", "hybrid"));
    let ids: Vec<_> = parse_csv(&text).unwrap().into_iter().map(|e| e.catalog_id).collect();
    assert_eq!(ids, ["A", "B"], "sorted by catalog id");
}

#[test]
fn quoted_line_breaks_and_crlf_do_not_shift_row_numbers() {
    let quoted = row("GMAL-1", "standard").replace("No media", "\"No media,\r\nno print\"");
    let text =
        format!("{HEADER}\r\n{quoted}\r\n\r\n{}\r\n", row("GMAL-2", "standard").replace("onshore", "?"));
    let errors = errors(&text);
    assert_eq!(
        errors.iter().map(|e| (e.row, e.field.as_str())).collect::<Vec<_>>(),
        [(4, "role_1_location")]
    );
    let catalog = parse_csv(&format!("{HEADER}\n{quoted}")).unwrap();
    assert_eq!(catalog[0].agency_caveats.as_deref(), Some("No media,\r\nno print"));
}

#[test]
fn rows_of_one_id_with_different_model_types_merge() {
    let catalog = parse_csv(&sheet(&[&row("GMAL-1", "standard"), &row("GMAL-1", "hybrid")])).unwrap();
    assert_eq!(catalog.len(), 1);
    assert_eq!(catalog[0].hours.keys().collect::<Vec<_>>(), ["hybrid", "standard"]);
    let renamed = row("GMAL-1", "hybrid").replace("Static banner,", "Other banner,");
    rejects(&[&row("GMAL-1", "standard"), &renamed], 3, "asset_name", "differs");
    let no_model = row("GMAL-2", "");
    let catalog = parse_csv(&sheet(&[&no_model])).unwrap();
    assert!(catalog[0].hours.contains_key("standard"), "model type defaults to standard");
}

#[test]
fn each_bad_cell_is_named_by_row_and_field() {
    let good = row("GMAL-1", "standard");
    rejects(&[&good.replace("designer", "Wizard")], 2, "role_2", "wizard");
    rejects(&[&good.replace(",1,designer", ",-1,designer")], 2, "role_1_hours", "negative");
    rejects(&[&good.replace(",1,designer", ",one,designer")], 2, "role_1_hours", "not a number");
    rejects(&[&good.replace(",1,designer", ",NaN,designer")], 2, "role_1_hours", "finite");
    rejects(&[&good.replace("Offshore", "Mars")], 2, "role_2_location", "unknown location");
    rejects(&[&good, &good], 3, "catalog_id", "duplicate of row 2");
    let three = errors(&sheet(&[&good, &good, &good]));
    assert!(three.iter().all(|e| e.message.contains("row 2")), "{three:?}");
    rejects(&[&good.replacen("GMAL-1", "", 1)], 2, "catalog_id", "required");
    rejects(&[&good.replace("3.5,", "4,")], 2, "total_asset_hours", "does not match");
    rejects(&[&good.replace(",,,", ",,,3")], 2, "role_3", "without a role");
    rejects(&[&good.replace("2.5,,,", "2.5,Producer,,")], 2, "role_3_hours", "no hours");
}

#[test]
fn cells_beyond_what_the_read_models_and_exports_hold_are_rejected() {
    let good = row("GMAL-1", "standard");
    rejects(&[&good.replace("No media", "No\0media")], 2, "agency_caveats", "control characters");
    rejects(&[&good.replace("Static banner", &"b".repeat(301))], 2, "asset_name", "at most 300");
    let huge = good.replace(",1,designer", ",1e300,designer").replace("3.5,", ",");
    rejects(&[&huge], 2, "role_1_hours", "more than 10000 hours");
}

#[test]
fn empty_sheets_and_missing_columns_are_rejected() {
    for empty in ["", "\n\n", "# only a comment\n"] {
        let errors = errors(empty);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("empty"));
    }
    let header_only = errors(HEADER);
    assert_eq!((header_only.len(), header_only[0].row), (1, 2), "{header_only:?}");
    let missing = errors("category,asset_name,complexity\nPrint,Poster,Simple");
    let fields: Vec<_> = missing.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(fields, [(1, "catalog_id"), (1, "role_1")]);
    assert!(parse_rows(&[]).is_err());
}

#[test]
fn every_bad_row_is_reported_not_just_the_first() {
    let good = row("GMAL-1", "standard");
    let text = sheet(&[
        &good,
        &row("GMAL-2", "standard").replace("Art Director", "Chef"),
        &row("GMAL-3", "standard").replace(",2.5,", ",lots,"),
        &row("GMAL-4", "standard"),
        &row("GMAL-5", "standard").replace("onshore", "moon"),
    ]);
    let errors = errors(&text);
    let found: Vec<_> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(found, [(3, "role_1"), (4, "role_2_hours"), (6, "role_1_location")]);
}

#[test]
fn parse_rows_takes_cells_directly() {
    let cells = |line: &str| line.split(',').map(str::to_owned).collect::<Vec<_>>();
    let rows = vec![cells(HEADER), cells(&row("GMAL-9", "hybrid"))];
    let catalog = parse_rows(&rows).unwrap();
    assert_eq!(catalog[0].total_hours("hybrid"), Some(3.5));
}
