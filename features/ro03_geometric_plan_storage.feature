@ro3
Feature: RO-3 Geometric Plan Storage
  The Geometric Planner stores a geometric RT Plan (beams, no dose) that
  references the structure set it was planned on.

  @sut_geometric_planner @geometric_planner @archive
  Scenario: The Geometric Planner under test stores a conformant geometric plan
    Given the harness Archive holds the synthetic CT series and structure set
    When the Geometric Planner under test performs RO-3
    Then the harness Archive received RTPLAN objects from the system under test
    And the received plan is a geometric plan
    And every C-STORE from the system under test was answered with Success
    And the received RTPLAN objects pass the TRO rules and the standard engines

  @sut_archive @archive @geometric_planner
  Scenario: The Archive under test stores a geometric plan and gives it back unchanged
    Given the Archive under test holds the synthetic CT series and structure set
    When the harness Geometric Planner stores the synthetic geometric plan in the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the Archive under test finds the RTPLAN series with a C-FIND at SERIES level
    And the harness retrieves the RTPLAN series by C-GET unchanged

  @sut_archive @archive @geometric_planner @negative
  Scenario: The Archive under test keeps a geometric plan with metersets as it was sent
    Given the Archive under test holds the synthetic CT series and structure set
    When the harness Geometric Planner stores the synthetic geometric plan with fault "brto-geometric-metersets" in the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the harness retrieves the RTPLAN series by C-GET unchanged

  @sut_geometric_planner @geometric_planner @archive @acts_on_input
  Scenario Outline: The Geometric Planner under test plans on the <set> stimulus
    Given the harness Archive holds the <set> CT series and structure set
    When the Geometric Planner under test performs RO-3
    Then the harness Archive received RTPLAN objects from the system under test
    And the received plan is a geometric plan
    And the received RTPLAN objects pass the TRO rules and the standard engines

    Examples:
      | set     |
      | limited |
      | uneven  |
