@ro5
Feature: RO-5 Dose Storage
  The Dosimetric Planner stores the RT Dose of its plan (summation PLAN) and
  may store one dose per beam.

  @sut_dosimetric_planner @dosimetric_planner @archive
  Scenario: The Dosimetric Planner under test stores conformant doses
    Given the harness Archive holds the synthetic CT series, structure set and geometric plan
    When the Dosimetric Planner under test performs RO-5
    Then the harness Archive received RTDOSE objects from the system under test
    And every C-STORE from the system under test was answered with Success
    And the received RTDOSE objects pass the TRO rules and the standard engines

  @sut_archive @archive @dosimetric_planner
  Scenario: The Archive under test stores the doses and gives them back unchanged
    Given the Archive under test holds the synthetic CT series, structure set and dosimetric plan
    When the harness Dosimetric Planner stores the synthetic plan dose and beam doses in the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the Archive under test finds the RTDOSE series with a C-FIND at SERIES level
    And the harness retrieves the RTDOSE series by C-GET unchanged

  @sut_archive @archive @dosimetric_planner @negative
  Scenario: The Archive under test keeps a dose with a short grid frame offset vector as it was sent
    Given the Archive under test holds the synthetic CT series and dosimetric plan
    When the harness Dosimetric Planner stores the synthetic plan dose with fault "grid-frame-offset-length" in the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the harness retrieves the RTDOSE series by C-GET unchanged
