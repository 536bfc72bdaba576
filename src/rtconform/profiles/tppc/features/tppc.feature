@tppc
Feature: TPPC Treatment Planning – Plan Content
  IHE-RO TPPC (2014), its producer, consumer and Archive scenarios (TPPC-01 …
  TPPC-32): a planning system stores plans of each beam type it declares,
  judged beam by beam by the tppc profile; plan consumers and the Archive take
  each beam type's plan and give it back unchanged. One scenario per beam type;
  a type the system under test does not declare (beam_types: in its SUT file)
  is skipped.

  @sut_dosimetric_planner @dosimetric_planner @archive @acts_on_input
  Scenario Outline: The planning system under test stores a <beam_type> plan
    Given the system under test declares <beam_type> plans
    And the harness Archive holds the TPPC stimulus: CT series, structure set and the <beam_type> plan
    When the planning system under test plans <beam_type> beams
    Then the harness Archive received RTPLAN objects from the system under test
    And every C-STORE from the system under test was answered with Success
    And every beam of the received plans is a <beam_type> beam
    And the received plans pass the TPPC rules and the standard engines

    Examples:
      | beam_type |
      | basic-static |
      | basic-static-mlc |
      | arc |
      | mlc-fixed-aperture-arc |
      | mlc-variable-aperture-arc |
      | hard-wedge |
      | virtual-wedge |
      | motorized-wedge |
      | static-electron |
      | step-and-shoot |
      | sliding-window |
      | vmat |
      | photon-applicator |
      | photon-applicator-arc |

  @sut_archive @archive
  Scenario Outline: The Archive under test stores a <beam_type> plan and gives it back unchanged
    Given the system under test declares <beam_type> plans
    When the harness sends the synthetic <beam_type> plan to the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the Archive under test finds the RTPLAN series with a C-FIND at SERIES level
    And the harness retrieves the RTPLAN series by C-GET unchanged

    Examples:
      | beam_type |
      | basic-static |
      | basic-static-mlc |
      | arc |
      | mlc-fixed-aperture-arc |
      | mlc-variable-aperture-arc |
      | hard-wedge |
      | virtual-wedge |
      | motorized-wedge |
      | static-electron |
      | step-and-shoot |
      | sliding-window |
      | vmat |
      | photon-applicator |
      | photon-applicator-arc |

  @sut_dose_displayer @dose_displayer
  Scenario Outline: The plan consumer under test takes a <beam_type> plan
    Given the system under test declares <beam_type> plans
    When the harness sends the synthetic <beam_type> plan to the plan consumer under test
    Then every C-STORE from the harness was answered with Success
    And the plan consumer under test shows the <beam_type> plan as sent

    Examples:
      | beam_type |
      | basic-static |
      | basic-static-mlc |
      | arc |
      | mlc-fixed-aperture-arc |
      | mlc-variable-aperture-arc |
      | hard-wedge |
      | virtual-wedge |
      | motorized-wedge |
      | static-electron |
      | step-and-shoot |
      | sliding-window |
      | vmat |
      | photon-applicator |
      | photon-applicator-arc |

  @sut_archive @archive @tppc_reference
  Scenario: The Archive under test stores IHE-RO's 14 TPPC reference plans and gives them back unchanged
    Given the IHE-RO TPPC reference plans
    When the harness sends the reference plans to the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the harness retrieves every plan it sent by C-GET, unchanged
