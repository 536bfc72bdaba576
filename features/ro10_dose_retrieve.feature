@ro10
Feature: RO-10 Dose Retrieve
  The Archive gives the RT Dose objects of a plan to the Dose Displayer.

  @sut_archive @archive @dose_displayer
  Scenario Outline: The Archive under test returns the doses unchanged by <method>
    Given the Archive under test holds the synthetic dosimetric plan, plan dose
    When the harness Dose Displayer retrieves the RTDOSE series from the Archive under test by <method>
    Then the harness received the RTDOSE objects it gave, unchanged

    Examples:
      | method |
      | C-GET  |
      | C-MOVE |

  @sut_dose_displayer @dose_displayer @archive
  Scenario: The Dose Displayer under test retrieves the doses
    Given the harness Archive holds the synthetic dosimetric plan, plan dose
    When the Dose Displayer under test performs RO-10
    Then the harness Archive sent the RTDOSE objects it holds to the system under test

  @sut_dose_displayer @dose_displayer @archive @acts_on_input
  Scenario Outline: The Dose Displayer under test retrieves the <set> plan and dose
    Given the harness Archive holds the <set> CT series, structure set, dosimetric plan and plan dose
    When the Dose Displayer under test performs RO-1, RO-7, RO-9 and RO-10
    Then the harness Archive sent the CT objects it holds to the system under test
    And the harness Archive sent the RTSTRUCT objects it holds to the system under test
    And the harness Archive sent the RTDOSE objects it holds to the system under test

    Examples:
      | set     |
      | limited |
      | uneven  |
