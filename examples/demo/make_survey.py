#!/usr/bin/env python3
"""Write survey.csv: a small synthetic archaeobotanical survey export for the ShiftBench demo.

Standard library only and fully deterministic (fixed seed): running it again reproduces the shipped
survey.csv byte for byte.

Structure: 2 projects, 6 sites (3 per project), 60 samples spread over the sites, 40 taxa, 300 rows.
Each row is one (sample, taxon) observation, so site, sample and taxon values repeat across rows, as in
the real Arbodat export. Output: ';'-separated, UTF-8, '\n' line endings, German-ish column names.

Usage:  python3 make_survey.py [output path]     (default: survey.csv next to this script)
"""

import csv
import random
import sys
from pathlib import Path

SEED = 20240611
N_SAMPLES = 60
N_ROWS = 300

COLUMNS = [
    "ProjektNr",
    "Fustel",
    "Ort",
    "KoordX",
    "KoordY",
    "ProbNr",
    "ProbTyp",
    "ProbTyp Beschreibung",
    "Epoche",
    "Epochen_Beschreibung",
    "BNam",
    "Familie",
    "RTyp",
    "SumFAnzahl",
    "SumFGewicht",
    "EDatProb",
    "Anmerkung",
]

# (ProjektNr, Fustel, Ort, KoordX, KoordY, epochs found at the site)
SITES = [
    ("21_0004", "Mühlenberg", "Lüneburg", "3592140", "5903310", ["BZ", "EZ"]),
    ("21_0004", "Am Schäferhof", "Bardowick", "3588720", "5909950", ["EZ"]),
    ("21_0004", "Kiesgrube Süd", "Adendorf", "3596480", "5907120", ["NL", "BZ"]),
    ("22_0017", "Weißer Berg", "Göttingen", "3564390", "5709820", ["RKZ", "FMA"]),
    ("22_0017", "Flur Über der Aue", "Rosdorf", "3561050", "5704460", ["RKZ"]),
    ("22_0017", "Hünenburg", "Nörten-Hardenberg", "3567730", "5722010", ["EZ", "FMA"]),
]

EPOCHS = {
    "NL": "Neolithikum",
    "BZ": "Bronzezeit",
    "EZ": "Vorrömische Eisenzeit",
    "RKZ": "Römische Kaiserzeit",
    "FMA": "Frühmittelalter",
}

SAMPLE_TYPES = [  # (ProbTyp, ProbTyp Beschreibung, weight)
    ("Eim", "Eimerprobe (Verfüllung)", 5),
    ("Sed", "Sedimentprobe", 3),
    ("Hk", "Holzkohleprobe", 2),
    ("Ein", "Einzelfund", 1),
]

# (BNam, Familie, woody) -- woody taxa are recorded as charcoal (RTyp "Hk"), the rest as seeds/fruits
TAXA = [
    ("Hordeum vulgare", "Poaceae", False),
    ("Triticum dicoccum", "Poaceae", False),
    ("Triticum monococcum", "Poaceae", False),
    ("Triticum aestivum/durum", "Poaceae", False),
    ("Triticum spelta", "Poaceae", False),
    ("Secale cereale", "Poaceae", False),
    ("Avena sp.", "Poaceae", False),
    ("Panicum miliaceum", "Poaceae", False),
    ("Bromus secalinus", "Poaceae", False),
    ("Echinochloa crus-galli", "Poaceae", False),
    ("Lens culinaris", "Fabaceae", False),
    ("Pisum sativum", "Fabaceae", False),
    ("Vicia faba", "Fabaceae", False),
    ("Vicia hirsuta", "Fabaceae", False),
    ("Linum usitatissimum", "Linaceae", False),
    ("Camelina sativa", "Brassicaceae", False),
    ("Brassica/Sinapis", "Brassicaceae", False),
    ("Chenopodium album", "Amaranthaceae", False),
    ("Atriplex patula/prostrata", "Amaranthaceae", False),
    ("Polygonum aviculare", "Polygonaceae", False),
    ("Fallopia convolvulus", "Polygonaceae", False),
    ("Persicaria lapathifolia", "Polygonaceae", False),
    ("Rumex acetosella", "Polygonaceae", False),
    ("Galium aparine", "Rubiaceae", False),
    ("Stellaria media", "Caryophyllaceae", False),
    ("Agrostemma githago", "Caryophyllaceae", False),
    ("Plantago lanceolata", "Plantaginaceae", False),
    ("Rubus fruticosus agg.", "Rosaceae", False),
    ("Sambucus nigra", "Adoxaceae", False),
    ("Corylus avellana", "Betulaceae", False),
    ("Quercus sp.", "Fagaceae", True),
    ("Fagus sylvatica", "Fagaceae", True),
    ("Alnus glutinosa", "Betulaceae", True),
    ("Betula sp.", "Betulaceae", True),
    ("Pinus sylvestris", "Pinaceae", True),
    ("Fraxinus excelsior", "Oleaceae", True),
    ("Acer campestre", "Sapindaceae", True),
    ("Pomoideae", "Rosaceae", True),
    ("Carpinus betulus", "Betulaceae", True),
    ("Ulmus sp.", "Ulmaceae", True),
]

NOTES = [
    "verkohlt",
    "cf.",
    "Bruchstück",
    "unsicher bestimmt",
    "mit Spelzbasis",
    "stark fragmentiert; teilweise verkohlt",
    "Größe < 1 mm",
    "aus Grube, Schicht 2",
]


def build_rows(rng):
    # 60 samples over 6 sites: at least 6 per site, the rest at random
    site_of_sample = [i % len(SITES) for i in range(6 * len(SITES))]
    site_of_sample += [rng.randrange(len(SITES)) for _ in range(N_SAMPLES - len(site_of_sample))]
    site_of_sample.sort()

    samples = []
    per_project = {}
    for site_idx in site_of_sample:
        projekt, fustel, ort, x, y, epochs = SITES[site_idx]
        per_project[projekt] = per_project.get(projekt, 0) + 1
        probnr = f"{projekt}_{per_project[projekt]:04d}"
        probtyp, beschreibung, _ = rng.choices(SAMPLE_TYPES, weights=[t[2] for t in SAMPLE_TYPES])[0]
        epoche = rng.choice(epochs)
        year = 2000 + int(projekt[:2])
        date = f"{year}-{rng.randint(4, 10):02d}-{rng.randint(1, 28):02d}"
        samples.append(
            dict(
                site=site_idx,
                ProbNr=probnr,
                ProbTyp=probtyp,
                beschreibung=beschreibung,
                Epoche=epoche,
                EDatProb=date,
            )
        )

    # taxa per sample: start at 5 each (= 300 rows), then move single observations between samples
    sizes = [N_ROWS // N_SAMPLES] * N_SAMPLES
    for _ in range(N_SAMPLES):
        a, b = rng.randrange(N_SAMPLES), rng.randrange(N_SAMPLES)
        if sizes[a] > 2 and sizes[b] < 9:
            sizes[a] -= 1
            sizes[b] += 1

    # common taxa are much more frequent than rare ones
    weights = [1.0 / (1 + 0.25 * i) for i in range(len(TAXA))]
    chosen = []
    for size in sizes:
        picked = set()
        while len(picked) < size:
            picked.add(rng.choices(range(len(TAXA)), weights=weights)[0])
        chosen.append(sorted(picked))

    # make sure every taxon occurs at least once
    counts = [0] * len(TAXA)
    for picked in chosen:
        for t in picked:
            counts[t] += 1
    for missing in [t for t, c in enumerate(counts) if c == 0]:
        while True:
            s = rng.randrange(N_SAMPLES)
            candidates = [t for t in chosen[s] if counts[t] >= 3]
            if candidates and missing not in chosen[s]:
                old = rng.choice(candidates)
                chosen[s].remove(old)
                chosen[s].append(missing)
                chosen[s].sort()
                counts[old] -= 1
                counts[missing] += 1
                break

    rows = []
    for sample, picked in zip(samples, chosen, strict=True):
        projekt, fustel, ort, x, y, _ = SITES[sample["site"]]
        for t in picked:
            bnam, familie, woody = TAXA[t]
            if woody:
                rtyp = "Hk"
                anzahl = str(rng.randint(1, 40))
                gewicht = f"{rng.uniform(0.05, 12.0):.2f}"
            else:
                rtyp = "Sa/Fr"
                anzahl = str(max(1, int(rng.paretovariate(1.2))))
                gewicht = "0.0"
            note = rng.choice(NOTES) if rng.random() < 0.15 else ""
            rows.append(
                [
                    projekt,
                    fustel,
                    ort,
                    x,
                    y,
                    sample["ProbNr"],
                    sample["ProbTyp"],
                    sample["beschreibung"],
                    sample["Epoche"],
                    EPOCHS[sample["Epoche"]],
                    bnam,
                    familie,
                    rtyp,
                    anzahl,
                    gewicht,
                    sample["EDatProb"],
                    note,
                ]
            )
    return rows


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "survey.csv"
    rows = build_rows(random.Random(SEED))
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows x {len(COLUMNS)} columns to {out}")


if __name__ == "__main__":
    main()
