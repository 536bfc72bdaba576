@ro7
Feature: RO-7 Structure Set Retrieve
  The Archive gives an RT Structure Set to the Contourer, the planners and the
  Dose Displayer.

  @sut_archive @archive @geometric_planner
  Scenario: The Archive under test returns a structure set unchanged
    Given the Archive under test holds the synthetic CT series and structure set
    When the harness Geometric Planner retrieves the RTSTRUCT series from the Archive under test by C-MOVE
    Then the harness received the RTSTRUCT objects it gave, unchanged

  @sut_geometric_planner @geometric_planner @archive
  Scenario: The Geometric Planner under test retrieves a structure set
    Given the harness Archive holds the synthetic CT series and structure set
    When the Geometric Planner under test performs RO-7
    Then the harness Archive sent the RTSTRUCT objects it holds to the system under test

  @sut_dosimetric_planner @dosimetric_planner @archive
  Scenario: The Dosimetric Planner under test retrieves a structure set
    Given the harness Archive holds the synthetic CT series and structure set
    When the Dosimetric Planner under test performs RO-7
    Then the harness Archive sent the RTSTRUCT objects it holds to the system under test

  @sut_contourer @contourer @archive @negative
  Scenario: The Contourer under test is given a structure set whose images are missing
    Given the harness Archive holds the synthetic structure set
    When the Contourer under test performs RO-7
    Then the harness Archive sent the RTSTRUCT objects it holds to the system under test
    And the Contourer under test refuses the structure set

  @sut_dose_displayer @dose_displayer @archive
  Scenario: The Dose Displayer under test retrieves a structure set
    Given the harness Archive holds the synthetic CT series and structure set
    When the Dose Displayer under test performs RO-7
    Then the harness Archive sent the RTSTRUCT objects it holds to the system under test
