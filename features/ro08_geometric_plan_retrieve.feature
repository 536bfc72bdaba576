@ro8
Feature: RO-8 Geometric Plan Retrieve
  The Archive gives the geometric plan to the Dosimetric Planner.

  @sut_archive @archive @dosimetric_planner
  Scenario: The Archive under test returns a geometric plan unchanged
    Given the Archive under test holds the synthetic structure set and geometric plan
    When the harness Dosimetric Planner retrieves the RTPLAN series from the Archive under test by C-GET
    Then the harness received the RTPLAN objects it gave, unchanged

  @sut_dosimetric_planner @dosimetric_planner @archive
  Scenario: The Dosimetric Planner under test retrieves a geometric plan
    Given the harness Archive holds the synthetic structure set and geometric plan
    When the Dosimetric Planner under test performs RO-8
    Then the harness Archive sent the RTPLAN objects it holds to the system under test
