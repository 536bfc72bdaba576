@ro9
Feature: RO-9 Dosimetric Plan Retrieve
  The Archive gives the dosimetric plan to the Dose Displayer.

  @sut_archive @archive @dose_displayer
  Scenario: The Archive under test returns a dosimetric plan unchanged
    Given the Archive under test holds the synthetic structure set and dosimetric plan
    When the harness Dose Displayer retrieves the RTPLAN series from the Archive under test by C-GET
    Then the harness received the RTPLAN objects it gave, unchanged

  @sut_dose_displayer @dose_displayer @archive
  Scenario: The Dose Displayer under test retrieves a dosimetric plan
    Given the harness Archive holds the synthetic structure set and dosimetric plan
    When the Dose Displayer under test performs RO-9
    Then the harness Archive sent the RTPLAN objects it holds to the system under test
