"""The synthetic patient ("RTCONFORM^Phantom"): a deterministic RT patient
whose references all resolve and that passes dciodvfy, built three ways:
as the harness's stimulus, as what the reference actors produce from what
they were given, and as the plans of every TPPC beam type.

Why a package of its own, and why `phantom`: it is not DICOM plumbing (that
is `rtconform.dicom`, which it uses: UIDs, the atomic file writer) but one
made-up patient, the thing every scenario, rule test and benchmark needs;
it is called the phantom in its own Structure Set Name and Study Description.
Modules are named by what they build:

- `design`: the numbers it is made of (CT geometry, anatomy, beams, dose grid);
- `patient`: its identity, the UIDs of its objects, the modules all share;
- `images`, `structure_sets`, `plans`, `doses`: one object kind each, joined
  in `builder.PatientBuilder` (CT → structure set → plans → dose, each from
  what comes before it, as the reference actors need);
- `sets`: the stimulus sets (`SAMPLE_SETS`, `build_sample`, `SampleSet`);
- `exports`: the set as a planning system or a batch exporter writes it;
- `beam_model`, `modifiers`, `techniques`, `technique_plans`: the RT Plans
  of IHE-RO TPPC's 14 beam types;
- `faults`: one defect at a time (each profile's faults register here);
- `variants`: a changed object is a new instance (new UIDs, references kept).
"""
