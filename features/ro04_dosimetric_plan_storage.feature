@ro4
Feature: RO-4 Dosimetric Plan Storage
  The Dosimetric Planner stores a dosimetric RT Plan: one fraction group,
  fractions planned, a meterset for every beam, and the structure set reference.

  @sut_dosimetric_planner @dosimetric_planner @archive
  Scenario: The Dosimetric Planner under test stores a conformant dosimetric plan
    Given the harness Archive holds the synthetic CT series, structure set and geometric plan
    When the Dosimetric Planner under test performs RO-4
    Then the harness Archive received RTPLAN objects from the system under test
    And the received plan is a dosimetric plan
    And every C-STORE from the system under test was answered with Success
    And the received RTPLAN objects pass the TRO rules and the standard engines

  @sut_archive @archive @dosimetric_planner
  Scenario: The Archive under test stores a dosimetric plan and gives it back unchanged
    Given the Archive under test holds the synthetic CT series, structure set and geometric plan
    When the harness Dosimetric Planner stores the synthetic dosimetric plan in the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the Archive under test finds the RTPLAN series with a C-FIND at SERIES level
    And the harness retrieves the RTPLAN series by C-GET unchanged

  @sut_archive @archive @dosimetric_planner @negative
  Scenario: The Archive under test keeps a plan without a meterset as it was sent
    Given the Archive under test holds the synthetic CT series and structure set
    When the harness Dosimetric Planner stores the synthetic dosimetric plan with fault "missing-beam-meterset" in the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the harness retrieves the RTPLAN series by C-GET unchanged

  @sut_dosimetric_planner @dosimetric_planner @archive @acts_on_input
  Scenario Outline: The Dosimetric Planner under test plans on the <set> stimulus
    Given the harness Archive holds the <set> CT series, structure set and geometric plan
    When the Dosimetric Planner under test performs RO-4 and RO-5
    Then the harness Archive received RTPLAN objects from the system under test
    And the received plan is a dosimetric plan
    And the received RTPLAN objects pass the TRO rules and the standard engines
    And the harness Archive received RTDOSE objects from the system under test
    And the received RTDOSE objects pass the TRO rules and the standard engines

    Examples:
      | set     |
      | limited |
      | uneven  |
