@ro10
Feature: RO-10 Dose Retrieve
  The Archive gives the RT Dose objects of a plan to the Dose Displayer.

  @sut_archive @archive @dose_displayer
  Scenario Outline: The Archive under test returns the doses unchanged by <method>
    Given the Archive under test holds the synthetic dosimetric plan, plan dose and beam doses
    When the harness Dose Displayer retrieves the RTDOSE series from the Archive under test by <method>
    Then the harness received 5 RTDOSE objects unchanged

    Examples:
      | method |
      | C-GET  |
      | C-MOVE |

  @sut_dose_displayer @dose_displayer @archive
  Scenario: The Dose Displayer under test retrieves the doses
    Given the harness Archive holds the synthetic dosimetric plan, plan dose and beam doses
    When the Dose Displayer under test performs RO-10
    Then the harness Archive sent 5 RTDOSE objects to the system under test
