@ro2
Feature: RO-2 Structure Set Storage
  The Contourer stores the RT Structure Set it drew on a CT series in the Archive.

  @sut_contourer @contourer @archive
  Scenario: The Contourer under test stores a conformant structure set
    Given the harness Archive holds the synthetic CT series
    When the Contourer under test performs RO-2
    Then the harness Archive received RTSTRUCT objects from the system under test
    And every C-STORE from the system under test was answered with Success
    And the received RTSTRUCT objects pass the TRO rules and the standard engines

  @sut_archive @archive @contourer
  Scenario: The Archive under test stores a structure set and gives it back unchanged
    Given the Archive under test holds the synthetic CT series
    When the harness Contourer stores the synthetic structure set in the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the Archive under test finds the RTSTRUCT series with a C-FIND at SERIES level
    And the harness retrieves the RTSTRUCT series by C-GET unchanged

  @sut_archive @archive @contourer @negative
  Scenario: The Archive under test keeps a non-conformant structure set as it was sent
    Given the Archive under test holds the synthetic CT series
    When the harness Contourer stores the synthetic structure set with fault "contour-off-plane" in the Archive under test
    Then every C-STORE from the harness was answered with Success
    And the harness retrieves the RTSTRUCT series by C-GET unchanged

  @sut_contourer @contourer @archive @acts_on_input
  Scenario: The Contourer under test edits a structure set it is given and stores a new instance
    Given the harness Archive holds the synthetic CT series and structure set
    When the Contourer under test performs RO-1, RO-7 and RO-2
    Then the harness Archive received RTSTRUCT objects from the system under test
    And every C-STORE from the system under test was answered with Success
    And the received RTSTRUCT objects pass the TRO rules and the standard engines
