"""rtconform's content profiles, one package each: its rules, its faults
(defects of the synthetic patient that prove each rule fires), the map of
the checklist it answers and its rule catalogue (RULES.md). Each declares a
`rtconform.rules.profiles.Profile` as `PROFILE` and is found through the
`rtconform.profiles` entry point group, as a third party's would be."""
