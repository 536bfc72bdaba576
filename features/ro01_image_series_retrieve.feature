@ro1
Feature: RO-1 Single/Contoured Image Series Retrieve
  The Archive gives a CT series to the Contourer, the Geometric Planner, the
  Dosimetric Planner and the Dose Displayer, by C-MOVE or C-GET.

  @sut_archive @archive @contourer
  Scenario Outline: The Archive under test returns a CT series by <method>
    Given the Archive under test holds the synthetic CT series
    When the harness Contourer retrieves the CT series from the Archive under test by <method>
    Then the harness received the CT objects it gave, unchanged

    Examples:
      | method |
      | C-GET  |
      | C-MOVE |

  @sut_contourer @contourer @archive
  Scenario: The Contourer under test retrieves a CT series
    Given the harness Archive holds the synthetic CT series
    When the Contourer under test performs RO-1
    Then the harness Archive sent the CT objects it holds to the system under test

  @sut_geometric_planner @geometric_planner @archive
  Scenario: The Geometric Planner under test retrieves a CT series
    Given the harness Archive holds the synthetic CT series
    When the Geometric Planner under test performs RO-1
    Then the harness Archive sent the CT objects it holds to the system under test

  @sut_dosimetric_planner @dosimetric_planner @archive
  Scenario: The Dosimetric Planner under test retrieves a CT series
    Given the harness Archive holds the synthetic CT series
    When the Dosimetric Planner under test performs RO-1
    Then the harness Archive sent the CT objects it holds to the system under test

  @sut_dose_displayer @dose_displayer @archive
  Scenario: The Dose Displayer under test retrieves a CT series
    Given the harness Archive holds the synthetic CT series
    When the Dose Displayer under test performs RO-1
    Then the harness Archive sent the CT objects it holds to the system under test
